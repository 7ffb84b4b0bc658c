"""The `segcheck` command: a thin click layer over the library.

Parse options, call the engine, render, write, map the exit code. Every SegcheckError becomes
one `Error: file:line: message` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import locale
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from . import __version__
from .errors import SegcheckError, UsageError
from .findings import Evidence, Report
from .gcpause import allow_gc_pauses
from .loaders.configs import FORMATS as CONFIG_FORMATS
from .loaders.topology import ISO_DATE
from .messages import Lang, localize, prefix, translate
from .outputs import check_output, same_file, write_chunks, write_output
from .report import formats_for, render, render_chunks
from .report.labels import value_word
from .rules import (
    DOCUMENTS,
    RULES,
    RULES_VERSION,
    DocumentKind,
    Severity,
    clause_excerpt,
    get_rule,
    short_citations,
)

if TYPE_CHECKING:
    from .diff.model import Side

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DIFF_FORMATS = ("text", "json", "sarif", "md", "html")  # segcheck.diff.DIFF_FORMATS, unimported

F = TypeVar("F", bound=Callable[..., Any])


class InputProblem(click.ClickException):
    """Bad input or usage: `Error: …` (`エラー: …`) on stderr, exit status 2."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, lang: str = "en") -> None:
        super().__init__(message)
        self.lang = lang

    def show(self, file: Any = None) -> None:
        click.echo(f"{prefix('error', self.lang)}: {self.format_message()}", err=True)


def handle_errors(func: F) -> F:
    """Translate library errors into exit status 2 with one clear message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang") or default_lang()
        try:
            return func(*args, **kwargs)
        except SegcheckError as exc:
            raise InputProblem(exc.localized(lang), lang) from None
        except KeyboardInterrupt:
            raise click.Abort() from None
        except BrokenPipeError:
            # The reader went away (`segcheck … | head`): stop quietly, like other filters.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_CLEAN)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except MemoryError:
            raise InputProblem(
                localize("out of memory while reading the input", lang), lang
            ) from None
        except Exception as exc:  # a bug in segcheck, not the user's input
            if os.environ.get("SEGCHECK_DEBUG"):
                raise
            message = (
                f"internal error ({type(exc).__name__}: {exc}); please report it, "
                "and set SEGCHECK_DEBUG=1 for details"
            )
            raise InputProblem(localize(message, lang), lang) from None

    return wrapper  # type: ignore[return-value]


def default_lang() -> str:
    """`ja` when the locale is Japanese, else `en`."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    loc = locale.getlocale()[0] or ""
    return "ja" if loc.lower().startswith("ja") else "en"


def parse_today(value: str | None) -> date | None:
    """`--today` as a date (exit 2 when malformed)."""
    if value is None:
        return None
    try:
        if not ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--today {value!r} is not a date (YYYY-MM-DD)") from None


def resolve_timestamp(value: str | None) -> str | None:
    """`--timestamp`, else SOURCE_DATE_EPOCH, else None (the engine then uses now)."""
    if value is not None:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--timestamp {value!r} is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            moment = datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH {epoch!r} is not a Unix time") from None
        return moment.isoformat().replace("+00:00", "Z")
    return None


def parse_tz(value: str | None) -> tzinfo | None:
    """`--tz`: an IANA zone (`Asia/Tokyo`) or a fixed offset (`+09:00`); exit 2 otherwise."""
    if value is None:
        return None
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", value)
    if m is not None:
        offset = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        if offset < timedelta(hours=24):
            return timezone(-offset if m.group(1) == "-" else offset)
    elif value and ".." not in value and not value.startswith("/"):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise UsageError(f"--tz {value!r} is not a time zone (Asia/Tokyo, UTC or +09:00)")


def exit_code(report: Report, fail_on: str) -> int:
    """The exit status of a rendered report (README.md, "Exit status").

    0 only when the evidence is complete and no finding is at or above `--fail-on`. A capture
    with no packet makes the evidence unusable: 2 whatever the findings. Other gaps (a capture
    that stopped early, a topology with nothing to separate) leave findings standing (1) but
    never give 0: their absence proves nothing, so 2.

    Drift between a firewall's log and its imported configuration (segcheck.logjoin) counts
    as a `high` finding: the configuration checked is not the one the device runs, so no
    verdict about that device stands, and a run showing it must not pass (with --baseline,
    like findings, only drift the baseline did not have).
    """
    if report.evidence is Evidence.UNUSABLE:
        return EXIT_ERROR
    threshold = Severity(fail_on).rank
    # With --baseline only new or escalated findings count (Report.gating).
    if any(f.severity.rank >= threshold for f in report.gating()):
        return EXIT_FINDINGS
    if report.gating_drift() and Severity.HIGH.rank >= threshold:  # with --baseline: new only
        return EXIT_FINDINGS
    return EXIT_ERROR if report.gaps else EXIT_CLEAN


def finish(report: Report, fail_on: str, lang: str = "en") -> int:
    """Say on stderr what the evidence did not cover; the exit status."""
    code = exit_code(report, fail_on)
    label = prefix("error" if code == EXIT_ERROR else "warning", lang)
    for gap in report.gaps:
        click.echo(f"{label}: {gap.text(lang)}", err=True)
    if report.log_join is not None:  # a firewall log against its imported configuration
        # With --baseline, drift it already records is accepted like a known finding: one
        # line counts it (it stays in the report) so that a run's stderr shows what is new.
        shown = report.gating_drift()
        for drift in shown:
            click.echo(f"{prefix('warning', lang)}: {drift.text(lang)}", err=True)
        if known := len(report.log_join.drift) - len(shown):
            click.echo(f"{prefix('warning', lang)}: {known_drift_line(known, lang)}", err=True)
    return code


def known_drift_line(count: int, lang: str) -> str:
    """The one stderr line for drift the baseline already records."""
    if Lang.of(lang) is Lang.JA:
        return f"比較基準に記録済みの設定の乖離 {count} 件（レポートに記載。終了コードには影響しません）"
    plural = "" if count == 1 else "s"
    return (
        f"{count} configuration drift{plural} the baseline already records "
        "(listed in the report; not counted in the exit status)"
    )


def for_excel(text: str, fmt: str, no_bom: bool) -> str:
    """CSV starts with a byte-order mark unless `--no-bom`: Excel reads a CSV without one in
    the locale's code page (CP932 in Japan) and garbles every Japanese cell."""
    return text if fmt != "csv" or no_bom else "\ufeff" + text


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def colour_wanted(output: str | None, fmt: str = "text") -> bool:
    """Colours only for text on a terminal: never in a file or a pipe, never with NO_COLOR
    (https://no-color.org: any non-empty value) or TERM=dumb."""
    if output not in (None, "-") or fmt != "text":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal()


_SEVERITY_MARK = re.compile(r"\[(critical|high|warning|info|重大|高|警告|情報)\]")
_COLOURS = {"critical": "red", "重大": "red", "high": "yellow", "高": "yellow",
            "warning": "yellow", "警告": "yellow", "info": "cyan", "情報": "cyan"}  # fmt: skip
_GOOD = ("no findings", "指摘なし")
_GAPS = ("EVIDENCE ", "証跡が", "no findings in what was seen", "確認できた範囲に指摘なし")
_RULE_HEAD = re.compile(r"[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+  ")


def colourise(text: str) -> str:
    """The text report with its severities, verdict and rule headings in colour (ANSI)."""
    out = []
    for line in text.split("\n"):
        if line.startswith(_GAPS):
            line = click.style(line, fg="yellow", bold=True)
        elif line.startswith(_GOOD):
            line = click.style(line, fg="green", bold=True)
        elif _RULE_HEAD.match(line):
            line = click.style(line, bold=True)
        else:
            line = _SEVERITY_MARK.sub(
                lambda m: click.style(m.group(), fg=_COLOURS[m.group(1)], bold=True), line
            )
        out.append(line)
    return "\n".join(out)


def told(output: str | None, lang: str, what: str = "") -> None:
    """One line on stderr saying what was written where, when the output went to a file (the
    terminal would otherwise show nothing at all)."""
    if output is None or output == "-":
        return
    if lang == "ja":
        click.echo(f"{output} に書き出しました" + (f" ({what})" if what else ""), err=True)
    else:
        click.echo(f"wrote {output}" + (f" ({what})" if what else ""), err=True)


def finding_counts(report: Report, lang: str) -> str:
    """`4 findings: critical 2, high 2` / `指摘 4 件: 重大 2, 高 2` (or none)."""
    summary = {k: v for k, v in report.summary().items() if v}
    total = sum(summary.values())
    if not total:
        return "指摘なし" if lang == "ja" else "no findings"
    parts = ", ".join(f"{value_word(lang, 'severity', k)} {v}" for k, v in summary.items())
    if lang == "ja":
        return f"指摘 {total} 件: {parts}"
    return f"{total} finding{'s' * (total != 1)}: {parts}"


def emit(text: str, output: str | None, inputs: Sequence[str]) -> None:
    """Write rendered output to stdout or, only after rendering succeeded, a file.

    The file is never an input or a link and is replaced atomically (segcheck.outputs).
    """
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    write_output(output, text.encode("utf-8"), inputs=inputs)


def emit_report(
    report: Report,
    fmt: str,
    lang: str,
    output: str | None,
    inputs: Sequence[str],
    no_bom: bool,
) -> None:
    """Render a report and write it: to a file in chunks as they are made (a scan's findings
    or flows in runs, never the whole text at once; the file is published only when every
    chunk is written), to stdout as one text once it has all rendered."""
    if output is None or output == "-":
        text = render(report, fmt, lang)
        text = colourise(text) if colour_wanted(output, fmt) else for_excel(text, fmt, no_bom)
        emit(text, output, inputs)
        return
    head = for_excel("", fmt, no_bom)  # the byte-order mark of a CSV for Excel
    # Closed however the write ends: an abandoned generator would keep the collector paused.
    with closing(render_chunks(report, fmt, lang)) as chunks:
        parts = chain((head,), chunks)
        write_chunks(output, (c.encode("utf-8") for c in parts if c), inputs=inputs)


LANG = click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    default=None,
    help="Language of messages and rule names (default: from the locale).",
)
TODAY = click.option(
    "--today", metavar="DATE", help="Judge channel expiry against this date (YYYY-MM-DD)."
)
FAIL_ON = click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="high",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
OUTPUT = click.option("-o", "--output", metavar="FILE", help="Write the report to FILE.")
ATTEMPTED = click.option(
    "--attempted-severity",
    "attempted_severity",
    type=click.Choice(["warning", "rule"]),
    default="warning",
    show_default=True,
    help="Severity of a forbidden flow that was only attempted (no answer, or refused): "
    "warning, or the rule's own severity.",
)
BASELINE = click.option(
    "--baseline",
    metavar="RESULT.json",
    help="Compare with an earlier result (--format json): every finding carries its state, "
    "and only new or escalated findings count for the exit status.",
)
TZ = click.option(
    "--tz",
    metavar="ZONE",
    help="Zone of device-local times in firewall logs without an offset (Asia/Tokyo, +09:00).",
)
GROUP_BY = click.option(
    "--group-by",
    "group_by",
    type=click.Choice(["conversation", "flow"]),
    default="conversation",
    show_default=True,
    help="How text, SARIF and HTML list flow findings: one per conversation (rule, initiator, "
    "responder, service, state, with flow and packet counts) or one per flow. JSON and CSV "
    "always keep every flow.",
)
NO_BOM = click.option(
    "--no-bom",
    is_flag=True,
    help="csv: plain UTF-8, without the byte-order mark that Excel needs to read it as UTF-8.",
)
TIMESTAMP = click.option(
    "--timestamp",
    metavar="ISO8601",
    help="Fix the report's timestamp (default: SOURCE_DATE_EPOCH, else now).",
)


def _lang_of(words: Sequence[str]) -> str:
    """The language a command line asks for (`--lang ja`, `--lang=ja`), else the locale's."""
    for i, word in enumerate(words):
        if word == "--lang" and i + 1 < len(words):
            return "ja" if words[i + 1] == "ja" else "en"
        if word.startswith("--lang="):
            return "ja" if word == "--lang=ja" else "en"
    return default_lang()


class SegcheckGroup(click.Group):
    """The commands. click's own usage errors (an unknown option, a missing argument, a value
    not among the choices) come in the command line's language, as segcheck's own do."""

    def invoke(self, ctx: click.Context) -> Any:
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if _lang_of(words) != "ja":
                raise
            done = translate(exc.format_message(), "ja")
            if done is None:
                raise
            where = exc.ctx.command_path if exc.ctx is not None else "segcheck"
            raise InputProblem(f"{done}（使い方: {where} --help）", "ja") from None


@click.group(cls=SegcheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="segcheck", message="%(prog)s %(version)s")
def main() -> None:
    """Prove, or disprove, the three-tier separation (三層の対策) of a municipal network.

    Exit status: 0 no finding at or above --fail-on on complete evidence, 1 findings,
    2 bad input or usage, or evidence that cannot prove the separation (a capture with no
    packet; without findings, a capture that stopped early or nothing to separate).

    \b
    Examples:
      segcheck init --profile alpha -o town.yaml      # start from a template
      segcheck check town.yaml --lang ja              # find forbidden paths in the plan
      segcheck check town.yaml --format csv -o 監査調書.csv
      segcheck scan town.yaml day1.pcapng --format html -o day1.html
      segcheck report town.yaml -o evidence --pdf     # the folder for the auditor
      segcheck diff town-old.yaml town.yaml --format md

    Shell completion: see README ("Shell completion"); for bash,
    eval "$(_SEGCHECK_COMPLETE=bash_source segcheck)" in ~/.bashrc.
    """
    # The command owns its process, so the engine may pause the cyclic collector in its bulk
    # phases for the whole command (a library caller decides for itself: segcheck.gcpause).
    click.get_current_context().with_resource(allow_gc_pauses())


@main.command()
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(formats_for("check")),
    default="text",
    show_default=True,
    help="Output format.",
)
@OUTPUT
@LANG
@TODAY
@FAIL_ON
@BASELINE
@NO_BOM
@TIMESTAMP
@handle_errors
def check(
    topology: str,
    fmt: str,
    output: str | None,
    lang: str | None,
    today: str | None,
    fail_on: str,
    baseline: str | None,
    timestamp: str | None,
    no_bom: bool,
) -> None:
    """Find every forbidden path in a planned TOPOLOGY (YAML or JSON).

    \b
    Examples:
      segcheck check town.yaml --lang ja
      segcheck check town.yaml --format csv -o 監査調書.csv    # for Excel (BOM, CRLF)
      segcheck check town.yaml --format sarif -o town.sarif --fail-on critical
      segcheck check town.yaml --baseline last-month.json   # only new findings fail
    """
    from .engine import check as run_check

    base = _read_baseline(baseline)
    report = run_check(
        topology, today=parse_today(today), generated_at=resolve_timestamp(timestamp)
    )
    report = _with_baseline(report, base)
    inputs = [topology] if baseline is None else [topology, baseline]
    language = lang or default_lang()
    emit_report(report, fmt, language, output, inputs, no_bom)
    told(output, language, finding_counts(report, language))
    sys.exit(finish(report, fail_on, language))


@main.command()
@click.argument("topology", type=click.Path(dir_okay=False))
@click.argument("captures", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(formats_for("scan")),
    default="text",
    show_default=True,
    help="Output format (csv: the whole flow table).",
)
@OUTPUT
@click.option(
    "--extract",
    metavar="FILE.pcap",
    help="Write the packets of every violating flow here (pcapng if named .pcapng).",
)
@click.option("--force", is_flag=True, help="Replace an existing --extract file.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Read captures in up to this many processes (uncompressed captures on 2 CPUs are "
    "read in one: it already uses both).",
)
@click.option(
    "--cluster",
    metavar="local:N|tls://HOST:PORT",
    help="Read the captures on a Dask cluster (segcheck[dask]); not with --jobs.",
)
@click.option(
    "--scheduler-file",
    type=click.Path(dir_okay=False),
    help="Reach the Dask scheduler named in this file (as --cluster).",
)
@click.option("--tls-ca-file", type=click.Path(dir_okay=False), help="CA of the Dask cluster.")
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="This client's certificate.")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="This client's private key.")
@click.option(
    "--max-flows",
    type=click.IntRange(1),
    default=None,
    help="Keep at most this many flows whole; later ones are judged per address class "
    "(zone, node, channel ends) and service, and the report says so (default: sized to "
    "this machine's memory).",
)
@ATTEMPTED
@LANG
@TODAY
@FAIL_ON
@BASELINE
@NO_BOM
@TIMESTAMP
@TZ
@GROUP_BY
@handle_errors
def scan(
    topology: str,
    captures: tuple[str, ...],
    fmt: str,
    output: str | None,
    extract: str | None,
    jobs: int,
    cluster: str | None,
    scheduler_file: str | None,
    tls_ca_file: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    max_flows: int | None,
    attempted_severity: str,
    lang: str | None,
    today: str | None,
    fail_on: str,
    baseline: str | None,
    timestamp: str | None,
    force: bool,
    tz: str | None,
    no_bom: bool,
    group_by: str = "conversation",
) -> None:
    """Judge the flows of CAPTURES against TOPOLOGY: pcap, pcapng (gzip too), Zeek conn.log,
    Suricata EVE, FortiGate or PAN-OS traffic logs, nfdump CSV/JSON output or nfcapd files.
    A directory stands for the files in it, a quoted pattern ('logs/*/conn.*.log.gz') for
    the files it matches, in name order; a Zeek connection logged in two files counts once.

    \b
    Examples:
      segcheck scan town.yaml day1.pcapng --lang ja
      segcheck scan town.yaml day1.pcapng.gz conn.log --format csv -o flows.csv
      segcheck scan town.yaml big.pcap --jobs 2 --extract violations.pcapng
    """
    spec = None
    if cluster is not None or scheduler_file is not None:
        from .cluster import ClusterSpec, started_early

        if click.get_current_context().get_parameter_source("jobs") is not (
            click.core.ParameterSource.DEFAULT
        ):
            raise UsageError("--jobs and --cluster/--scheduler-file exclude each other")
        spec = ClusterSpec(cluster, scheduler_file, tls_ca_file, tls_cert, tls_key)
        for note in spec.notes:
            click.echo(note, err=True)
        # `local:N` starts in a thread meanwhile; stopped with the command if it is not used.
        click.get_current_context().with_resource(started_early(spec))
    elif tls_ca_file or tls_cert or tls_key:
        raise UsageError("--tls-ca-file, --tls-cert and --tls-key need --cluster")
    from .capture.api import expand_inputs
    from .capture.extract import check_extract_target, extract_packets
    from .engine import scan as run_scan

    captures = tuple(expand_inputs(captures))
    # Refuse unwritable outputs and an unreadable baseline before a scan that may take minutes.
    base = _read_baseline(baseline)
    zone = parse_tz(tz)
    inputs = [topology, *captures] + ([baseline] if baseline is not None else [])
    if output not in (None, "-"):
        check_output(output, inputs=inputs)
    if extract is not None:
        if output not in (None, "-") and same_file(output, extract):
            raise UsageError(f"{extract}: named by both -o and --extract")
        check_extract_target(extract, captures, inputs=[topology], force=force)

    progress = _progress_bar() if sys.stderr.isatty() and not os.environ.get("CI") else None
    with ExitStack() as stack:  # a cluster is reached once, for the scan and --extract
        executor = None
        if spec is not None and extract is not None:
            from .cluster import session

            executor = stack.enter_context(session(spec))
        try:
            report = run_scan(
                topology,
                list(captures),
                today=parse_today(today),
                generated_at=resolve_timestamp(timestamp),
                jobs=jobs,
                progress=progress,
                attempts_keep_severity=attempted_severity == "rule",
                tz=zone,
                cluster=spec,
                max_flows=max_flows,
            )
        finally:
            if progress is not None:
                click.echo("", err=True)
        report = replace(_with_baseline(report, base), group_by=group_by)
        language = lang or default_lang()
        emit_report(report, fmt, language, output, inputs, no_bom)
        told(output, language, finding_counts(report, language))
        if extract is not None:
            violating = [f.flow for f in report.findings if f.flow is not None]
            done = extract_packets(
                captures, violating, extract, inputs=[topology], force=force, executor=executor
            )
            for line in done.describe():
                click.echo(localize(line, language), err=True)
    sys.exit(finish(report, fail_on, language))


def _read_baseline(path: str | None) -> Side | None:
    """The --baseline result, read before the run so a bad file fails fast (exit 2)."""
    if path is None:
        return None
    from .diff import read_result

    return read_result(path)


def _with_baseline(report: Report, baseline: Side | None) -> Report:
    if baseline is None:
        return report
    from .diff import with_baseline

    return with_baseline(report, baseline)


@main.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DIFF_FORMATS),
    default="text",
    show_default=True,
    help="Output format (md: for a change request ticket).",
)
@OUTPUT
@LANG
@click.option(
    "--today",
    metavar="DATE",
    help="Judge channel expiry on both topologies against this date (YYYY-MM-DD).",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="high",
    show_default=True,
    help="Exit 1 when a new or escalated finding is at or above this severity.",
)
@click.option(
    "--show-unchanged", is_flag=True, help="List unchanged findings too (text, md, html)."
)
@click.option(
    "--no-renames",
    is_flag=True,
    help="Do not detect renamed zones, nodes, permits or channels (same subnets, addresses or "
    "rule under a new name): report each as removed and added, its findings as fixed and new.",
)
@TIMESTAMP
@handle_errors
def diff_command(
    old: str,
    new: str,
    fmt: str,
    output: str | None,
    lang: str | None,
    today: str | None,
    fail_on: str,
    show_unchanged: bool,
    no_renames: bool,
    timestamp: str | None,
) -> None:
    """What a change opens and closes: compare OLD and NEW.

    Each is a topology (both checked with the same --today; permits imported from firewall
    configurations are compared by the device's rule id) or a result file of check or scan
    (--format json). Exit 1 only for a new or escalated finding at or above --fail-on;
    fixes never fail.
    """
    from .diff import diff_files
    from .diff import render as render_diff

    result = diff_files(
        old,
        new,
        today=parse_today(today),
        generated_at=resolve_timestamp(timestamp),
        fail_on=Severity(fail_on),
        renames=not no_renames,
    )
    language = lang or default_lang()
    text = render_diff(result, fmt, language, show_unchanged=show_unchanged)
    inputs = [old, new, *(i.path for i in (*result.old.inputs, *result.new.inputs))]
    emit(text, output, inputs)
    told(output, language)
    code = result.exit_status()
    label = prefix("error" if code == EXIT_ERROR else "warning", language)
    for gap in result.new.gaps:
        click.echo(f"{label}: {gap.text(language)}", err=True)
    sys.exit(code)


def _progress_bar() -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if total <= 0:
            return
        width = 30
        filled = width * done // total
        click.echo(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}%",
            err=True,
            nl=False,
        )

    return show


@main.command()
@LANG
def rules(lang: str | None) -> None:
    """List the rules (version 2) with severity and source clauses."""
    language = lang or default_lang()
    if language == "ja":
        click.echo(f"segcheck ルール版 {RULES_VERSION}")
    else:
        click.echo(f"segcheck rules version {RULES_VERSION}")
    for rule in RULES:
        severity = value_word(language, "severity", rule.severity.value)
        click.echo(f"{rule.id:<24} {severity:<9} {rule.name(language)}")
        click.echo(f"{'':<35}{short_citations(rule, language)}")
    click.echo("\n根拠文書:" if language == "ja" else "\nDocuments cited:")
    for doc in DOCUMENTS.values():
        # the guideline's title names its edition already
        edition = f" ({doc.edition})" if doc.edition and doc.kind is DocumentKind.POLICY else ""
        click.echo(f"  {doc.short(language)}: {doc.title(language)}{edition}")


@main.command()
@click.argument("rule_id")
@LANG
@handle_errors
def explain(rule_id: str, lang: str | None) -> None:
    """Explain one rule: when it fires, how to fix it, and where it comes from."""
    language = lang or default_lang()
    rule = get_rule(rule_id)
    heading = {"en": ("Fires when", "Fix", "Sources"), "ja": ("検出条件", "是正", "根拠")}
    fires, fix, sources = heading["ja" if language == "ja" else "en"]
    click.echo(
        f"{rule.id} ({value_word(language, 'severity', rule.severity.value)}): {rule.name(language)}"
    )
    click.echo(f"  {rule.name_ja if language != 'ja' else rule.name_en}\n")
    click.echo(f"{fires}: {rule.summary(language)}\n")
    click.echo(f"{fix}: {rule.remedy(language)}\n")
    click.echo(f"{sources}:")
    for source in rule.sources:
        click.echo(f"  - {source.cite(language)}")
        excerpt = clause_excerpt(source)
        if excerpt is not None:  # the clause as published (Japanese in either language)
            text = f"{excerpt.heading}\u3000{excerpt.text}" if excerpt.heading else excerpt.text
            click.echo(f"    「{text}」")


@main.command("report")
@click.argument("topology", type=click.Path(dir_okay=False))
@click.argument("captures", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", "directory", required=True, metavar="DIR", help="Write the evidence here."
)
@ATTEMPTED
@LANG
@TODAY
@FAIL_ON
@TIMESTAMP
@TZ
@click.option("--force", is_flag=True, help="Replace report files already in DIR.")
@GROUP_BY
@click.option(
    "--pdf", is_flag=True, help="Also print report.pdf (A4) with headless Chromium, if installed."
)
@click.option("--author", metavar="NAME", help="Cover: 作成者 (left blank to sign if not given).")
@click.option("--reviewer", metavar="NAME", help="Cover: 確認者 (left blank if not given).")
@click.option("--revision", metavar="TEXT", help="Cover: 版数, e.g. 第1版 (blank if not given).")
@click.option("--date", "doc_date", metavar="DATE", help="Cover: 日付 (blank if not given).")
@handle_errors
def report_command(
    topology: str,
    captures: tuple[str, ...],
    directory: str,
    attempted_severity: str,
    lang: str | None,
    today: str | None,
    fail_on: str,
    timestamp: str | None,
    tz: str | None,
    force: bool,
    group_by: str = "conversation",
    pdf: bool = False,
    author: str | None = None,
    reviewer: str | None = None,
    revision: str | None = None,
    doc_date: str | None = None,
) -> None:
    """Write audit evidence to DIR: report.html, findings.json/.sarif, topology.svg, SHA256SUMS.

    With CAPTURES, the observed flows are judged too. `sha256sum -c SHA256SUMS` in DIR verifies
    the outputs and the inputs (listed by their paths relative to DIR). The cover's
    document-control block (作成者, 確認者, 版数, 日付) takes --author, --reviewer, --revision
    and --date, or is left blank to be signed on paper.

    \b
    Examples:
      segcheck report town.yaml -o evidence --lang ja --pdf --author 情報政策課 --revision 第1版
      segcheck report town.yaml day1.pcapng -o evidence-day1
    """
    from .engine import report as run_report
    from .report.bundle import write_bundle
    from .report.html import DocumentControl
    from .report.pdf import find_chromium

    if pdf and find_chromium() is None:
        raise UsageError("--pdf needs Chromium (apt-get install chromium), which was not found")

    report = run_report(
        topology,
        list(captures),
        today=parse_today(today),
        generated_at=resolve_timestamp(timestamp),
        attempts_keep_severity=attempted_severity == "rule",
        tz=parse_tz(tz),
    )
    language = lang or default_lang()
    report = replace(report, group_by=group_by)
    document = DocumentControl(author, reviewer, revision, doc_date)
    result = write_bundle(report, directory, language, force=force, document=document, pdf=pdf)
    told(directory, language, f"{', '.join(result.files)}; {finding_counts(report, language)}")
    if result.diagram_note is not None:
        note = f"{result.diagram_note}; report written without topology.svg"
        click.echo(f"{prefix('warning', language)}: {localize(note, language)}", err=True)
    sys.exit(finish(report, fail_on, language))


@main.command("watch")
@click.argument("topology", type=click.Path(dir_okay=False))
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILE.jsonl",
    help="Append findings, gaps and each file read here, as JSON lines (also the watch's state).",
)
@click.option("--glob", default="*", show_default=True, help="Read only files matching this.")
@click.option(
    "--delay",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="Seconds a file must stay unchanged before it is read (without --done-suffix).",
)
@click.option(
    "--poll",
    type=click.FloatRange(0.05),
    default=10.0,
    show_default=True,
    help="Seconds between polls.",
)
@click.option(
    "--done-suffix",
    metavar="SUFFIX",
    help="Read FILE only once FILE+SUFFIX exists (a marker the writer creates when done).",
)
@click.option(
    "--grace",
    type=click.FloatRange(0),
    default=120.0,
    show_default=True,
    help="Seconds within which a flow continuing into the next file is the same flow.",
)
@click.option("--metrics-file", metavar="FILE.prom", help="node_exporter textfile of counters.")
@click.option("--once", is_flag=True, help="Read what is complete now, then stop.")
@ATTEMPTED
@TODAY
@TZ
@LANG
@handle_errors
def watch_command(
    topology: str,
    folder: str,
    output: str,
    glob: str,
    delay: float,
    poll: float,
    done_suffix: str | None,
    grace: float,
    metrics_file: str | None,
    once: bool,
    attempted_severity: str,
    today: str | None,
    tz: str | None,
    lang: str | None,  # of the messages on stderr; the JSON lines are a machine format
) -> None:
    """Judge captures and logs as they arrive in FOLDER; append what they show to FILE.jsonl.

    Runs until SIGTERM or SIGINT, which stop it after the file being read is written.
    """
    import signal

    from .loaders.topology import load_topology
    from .watch import Watcher, WatchOptions

    options = WatchOptions(
        glob=glob,
        delay=delay,
        poll=poll,
        done_suffix=done_suffix,
        grace=grace,
        metrics=Path(metrics_file) if metrics_file else None,
        tz=parse_tz(tz),
        today=parse_today(today),
        attempts_keep_severity=attempted_severity == "rule",
    )
    watcher = Watcher(load_topology(topology), Path(folder), Path(output), options)

    def stop(_signum: int, _frame: object) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher.run(once=once)
    sys.exit(EXIT_CLEAN)


@main.command("render")
@click.argument("topology", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, metavar="FILE.svg|FILE.png", help="Write the diagram here."
)
@LANG
@handle_errors
def render_command(topology: str, output: str, lang: str | None) -> None:
    """Draw the TOPOLOGY as a diagram (zones as clusters coloured by tier; needs Graphviz).

    The name of the output says the format: .svg (also `-`, standard output) or .png.

    \b
    Examples:
      segcheck render town.yaml -o town.svg
      segcheck render town.yaml -o town.png
    """
    from .loaders.topology import load_topology
    from .report.diagram import render_png, render_svg

    suffix = Path(output).suffix.lower() if output != "-" else ".svg"
    if suffix not in (".svg", ".png"):
        raise UsageError(f"{output}: render writes .svg or .png; name the output so")
    loaded = load_topology(topology)
    language = lang or default_lang()
    if suffix == ".png":
        write_output(output, render_png(loaded, (), language), inputs=[topology])
    else:
        emit(render_svg(loaded, (), language), output, [topology])
    told(output, language)


@main.command("init")
@click.option(
    "--profile",
    type=click.Choice(["alpha", "alpha-prime", "beta", "beta-prime"]),
    default="alpha",
    show_default=True,
    help="The network model of the template (ignored with --from-ledger; the map says it).",
)
@click.option(
    "--from-ledger",
    "ledger",
    metavar="LEDGER.csv|.tsv|.xlsx",
    type=click.Path(dir_okay=False),
    help="Build zones and nodes from an IP address ledger (IPアドレス管理表) instead.",
)
@click.option(
    "--map",
    "map_file",
    metavar="MAP.yaml",
    type=click.Path(dir_okay=False),
    help="With --from-ledger: which column is which, 系統 and 種別 values, the zones.",
)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "cp932", "utf-16"]),
    default="auto",
    show_default=True,
    help="The ledger's encoding (auto: BOM, then strict UTF-8, then strict CP932).",
)
@click.option(
    "--sheet", help="With an .xlsx ledger: read this sheet (default: the first with a header row)."
)
@click.option(
    "--allow-unmapped",
    is_flag=True,
    help="Write the topology without the rows that cannot be mapped (listed in its header) "
    "instead of failing.",
)
@click.option(
    "--report",
    "report_file",
    metavar="FILE.csv",
    type=click.Path(dir_okay=False),
    help="With --from-ledger: also list the rows left out (場所, 列, 値, 理由) as a CSV for "
    "Excel (UTF-8 with BOM, CRLF); a header alone when none was.",
)
@NO_BOM
@OUTPUT
@LANG
@handle_errors
def init_command(
    profile: str,
    ledger: str | None,
    map_file: str | None,
    encoding: str,
    sheet: str | None,
    allow_unmapped: bool,
    report_file: str | None,
    no_bom: bool,
    output: str | None,
    lang: str | None,
) -> None:
    """Start a topology: a commented Japanese template, or one built from an IP ledger.

    \b
    Examples:
      segcheck init --profile beta -o town.yaml
      segcheck init --from-ledger 台帳.csv --map map.yaml -o town.yaml
    """
    from .loaders.topology import parse_topology

    language = lang or default_lang()
    table = ""
    if ledger is None:
        if map_file is not None:
            raise UsageError("--map goes with --from-ledger")
        if report_file is not None:
            raise UsageError("--report goes with --from-ledger")
        from .loaders.template import template

        text = template(profile)
        inputs: list[str] = []
    else:
        if map_file is None:
            raise UsageError("--from-ledger needs --map MAP.yaml")
        from .loaders.ledger import import_ledger, read_map

        done = import_ledger(
            ledger, read_map(map_file), encoding=encoding, sheet=sheet,
            allow_unmapped=allow_unmapped,
        )  # fmt: skip
        text = done.text
        inputs = [ledger, map_file]
        for row in done.unmapped:
            click.echo(f"{prefix('warning', language)}: {row.text(language)}", err=True)
        if report_file is not None:
            from .report.csv import render_unmapped

            table = for_excel(render_unmapped(done.unmapped, language), "csv", no_bom)
    # What init writes must load: a map whose zones overlap fails here, not in `check`.
    loaded = parse_topology(text.encode("utf-8"), output or "<init>")
    emit(text, output, inputs)
    if report_file is not None:  # after the topology: never a report of an import that failed
        write_output(
            report_file, table.encode("utf-8"), inputs=[*inputs, *([output] if output else [])]
        )
    if language == "ja":
        told(output, language, f"ゾーン {len(loaded.zones)}、機器 {len(loaded.nodes)} 台")
    else:
        told(output, language, f"{len(loaded.zones)} zones, {len(loaded.nodes)} nodes")


@main.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(CONFIG_FORMATS)))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--vdom", help="FortiOS: import this VDOM only (default: every VDOM).")
@click.option("--vsys", help="PAN-OS: import this vsys only (default: every vsys).")
@click.option("--context", "context_name", help="Any format: import this context only.")
@click.option(
    "--strict", is_flag=True, help="Exit 2 unless every file imports with status 'passed'."
)
@OUTPUT
@LANG
@handle_errors
def import_command(
    fmt: str,
    files: tuple[str, ...],
    vdom: str | None,
    vsys: str | None,
    context_name: str | None,
    strict: bool,
    output: str | None,
    lang: str | None,
) -> None:
    """Print a firewall configuration's permits and interfaces as topology YAML.

    FORMAT is fortios, panos, nftables or csv. Each permit keeps the device's rule id and a
    comment with its file:line and the assumptions taken; the import status of every file
    (passed, partly-recognised, failed; disabled rules, undefined and unused objects) heads
    the output as comments and is repeated on stderr.
    """
    from .loaders.configs.importer import import_config
    from .report.imports import render_import, status_lines

    chosen = [v for v in (vdom, vsys, context_name) if v is not None]
    if len(chosen) > 1:
        raise UsageError("give one of --vdom, --vsys, --context")
    language = lang or default_lang()
    results = [
        result
        for path in files
        for result in import_config(path, fmt, context=chosen[0] if chosen else None)
    ]
    emit(render_import(results, language), output, files)
    told(output, language)
    for result in results:
        for line in status_lines(result.summary, language):
            click.echo(line, err=True)
    if strict and any(r.summary.status != "passed" for r in results):
        raise UsageError("--strict: not every configuration imported with status 'passed'")
