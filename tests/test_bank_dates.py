"""03/04/2026 is 3 April or March 4. The file's other rows settle the order when one of them can
only be read one way; else `--date-format` (or, for a file sent in chat, the message sent with
it); else coo asks, as a numbered question that says exactly how to answer, and books nothing
whose date depends on the answer. A future date, or one that doesn't fit the settled format, is
an error row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from agents.bank_csv import parse_export
from agents.bank_dates import DateFormatError, date_format_in, parse_date_format
from store.facade import Store
from tests.conftest import CliResult
from tests.test_reconciler import DATA, payments, seed, status

pytestmark = pytest.mark.clock

Coo = Callable[..., CliResult]

# Every date fits both orders; the references tie each row to an invoice (INV-0002 is $1,140,
# INV-0004 $750), so what is at stake is only the date.
AMBIGUOUS = "Date,Description,Amount\n03/04/2026,Bob Lee INV-0002,1140.00\n05/06/2026,Initech INV-0004,750.00\n"


@pytest.fixture
def store(db_url: str, clock, coo_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("COO_DATABASE_URL", db_url)
    opened = Store.open(db_url, clock)
    seed(opened)
    yield opened
    opened.close()


def write(tmp_path: Path, text: str, name: str = "bank.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(coo: Coo, *args: str) -> str:
    result = coo(["import-payments", *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_dates_nothing_settles_are_a_numbered_question_naming_the_option(store, coo, tmp_path):
    out = run(coo, write(tmp_path, AMBIGUOUS))
    assert "dates dd/mm/yyyy or mm/dd/yyyy, not settled" in out
    assert "0 matched · 1 to ask about · 0 ignored · 0 unreadable." in out
    assert (
        "  1. lines 2, 3: is 03/04/2026 3 Apr 2026 (day first) or 4 Mar 2026 (month first)? No date in the file "
        "settles it, so nothing on them was read or recorded."
    ) in out
    assert (
        "To answer, import it again with the order: coo import-payments bank.csv --date-format DMY (day first) "
        "or --date-format MDY (month first)."
    ) in out
    assert payments(store) == 0


@pytest.mark.parametrize(
    ("option", "booked"),
    [
        ("DMY", date(2026, 4, 3)),
        ("dmy", date(2026, 4, 3)),
        ("%d/%m/%Y", date(2026, 4, 3)),
        ("dd/mm/yyyy", date(2026, 4, 3)),
        ("MDY", date(2026, 3, 4)),
        ("%m/%d/%Y", date(2026, 3, 4)),
    ],
)
def test_date_format_settles_the_order(store, coo, tmp_path, option, booked):
    path = write(tmp_path, AMBIGUOUS)
    run(coo, path)  # asked first; the answer re-runs it
    out = run(coo, path, "--date-format", option)
    assert "2 matched · 0 to ask about" in out
    assert f"as --date-format {option} says." in out
    assert f"line 2, {booked.isoformat()}, $1,140.00 from Bob Lee INV-0002 → INV-0002" in out
    rows = store.db.fetchall("SELECT received_on FROM payments ORDER BY id")
    assert str(rows[0]["received_on"])[:10] == booked.isoformat()
    assert status(store, "INV-0002")[0] == status(store, "INV-0004")[0] == "paid"


def test_one_row_past_the_12th_settles_the_whole_file_and_says_which(store, coo, tmp_path):
    out = run(coo, write(tmp_path, AMBIGUOUS + "13/11/2026,Card FIGMA,-45.00\n"))
    assert "Dates read day first (dd/mm/yyyy): line 4 (13/11/2026) can only be read that way." in out
    assert "✓ line 2, 2026-04-03, $1,140.00 from Bob Lee INV-0002 → INV-0002" in out
    assert "✓ line 3, 2026-06-05, $750.00 from Initech INV-0004 → INV-0004" in out
    month_first = run(coo, write(tmp_path, AMBIGUOUS + "11/13/2026,Card FIGMA,-45.00\n", "us.csv"))
    assert "Dates read month first (mm/dd/yyyy): line 4 (11/13/2026) can only be read that way." in month_first


def test_a_value_date_column_can_settle_the_order(store, coo, tmp_path):
    export = (
        "Booking date,Value date,Description,Amount\n"
        "03/04/2026,03/04/2026,Bob Lee INV-0002,1140.00\n"
        "05/06/2026,14/06/2026,Initech INV-0004,750.00\n"
    )
    out = run(coo, write(tmp_path, export))
    assert "Dates read day first (dd/mm/yyyy): another date on line 3 (14/06/2026) can only be read that way." in out
    assert "✓ line 2, 2026-04-03, $1,140.00 from Bob Lee INV-0002 → INV-0002" in out


def test_dates_that_disagree_are_asked_and_the_answer_makes_the_odd_one_an_error_row(store, coo, tmp_path):
    path = write(tmp_path, AMBIGUOUS + "13/11/2026,Card FIGMA,-45.00\n11/14/2026,Umbrella INV-0005,750.00\n")
    out = run(coo, path)
    assert (
        "1. lines 2, 3, 4, 5: the file's dates disagree on the order (line 4 (13/11/2026) can only be day first, "
        "line 5 (11/14/2026) only month first), so nothing on them was read or recorded."
    ) in out
    assert "--date-format DMY (day first) or --date-format MDY (month first)" in out
    assert payments(store) == 0
    answered = run(coo, path, "--date-format", "DMY")
    assert "2 matched · 0 to ask about · 1 ignored · 1 unreadable." in answered
    assert "! line 5: the date '11/14/2026' doesn't fit --date-format DMY (dd/mm/yyyy)" in answered
    assert status(store, "INV-0005") == ("sent", Decimal("750.00"))


def test_a_date_in_the_future_is_an_error_row(store, coo, tmp_path):
    # The clock says 2026-11-25.
    export = "Date,Description,Amount\n2026-11-24,Bob Lee INV-0002,1140.00\n2026-12-02,Initech INV-0004,750.00\n"
    out = run(coo, write(tmp_path, export))
    assert "1 matched · 0 to ask about · 0 ignored · 1 unreadable." in out
    assert "! line 3: dated 2026-12-02, after today (2026-11-25)" in out
    assert status(store, "INV-0004") == ("sent", Decimal("750.00"))


def test_a_date_the_option_does_not_fit_is_an_error_row(store, coo):
    out = run(coo, str(DATA / "us_bank.csv"), "--date-format", "DMY")
    assert "0 matched" in out
    assert "! line 2: the date '11/20/2026' doesn't fit --date-format DMY (dd/mm/yyyy)" in out
    assert payments(store) == 0


def test_an_iso_export_reads_whatever_order_is_said(store, coo):
    out = run(coo, str(DATA / "stripe_payments.csv"), "--date-format", "MDY")
    assert "2 matched" in out and "0 unreadable" in out


def test_an_unusable_date_format_is_refused_before_anything_is_read(store, coo, tmp_path):
    result = coo(["import-payments", write(tmp_path, AMBIGUOUS), "--date-format", "%H:%M"])
    assert result.returncode == 2
    assert "--date-format '%H:%M' isn't a date format I can use: give DMY" in result.stderr
    assert "Nothing was recorded." in result.stderr
    assert payments(store) == 0


def test_a_file_sent_in_chat_is_answered_by_sending_it_again_with_the_order(chat):
    from graphs.payments_intake import import_payments

    store = chat.runtime.store
    seed(store)

    def drop(event_id: str, message: str = "") -> str:
        return import_payments(
            chat.runtime.conversation,
            AMBIGUOUS.encode(),
            "bank.csv",
            channel="console",
            thread_id="console",
            user_id="ana",
            event_id=event_id,
            message=message,
        ).reply

    asked = drop("drop-1")
    assert "1. lines 2, 3: is 03/04/2026 3 Apr 2026 (day first) or 4 Mar 2026 (month first)?" in asked
    assert (
        "To answer, send the file again with the message “--date-format DMY” (day first) or "
        "“--date-format MDY” (month first)."
    ) in asked
    assert payments(store) == 0
    answered = drop("drop-2", "--date-format DMY")
    assert "2 matched · 0 to ask about" in answered
    assert "✓ line 2, 2026-04-03, $1,140.00 from Bob Lee INV-0002 → INV-0002" in answered
    refused = drop("drop-3", "date format: tomorrow")
    assert refused.startswith("--date-format 'tomorrow' isn't a date format I can use")
    assert "Nothing from bank.csv was recorded" in refused


# -- without a database -------------------------------------------------------------------------


def test_a_two_digit_year_is_never_read_as_a_four_digit_one():
    parsed = parse_export(b"Date,Description,Amount\n20/11/26,A,100.00\n")
    assert [r.booked_on for r in parsed.rows] == [date(2026, 11, 20)]


def test_the_currency_is_not_taken_as_the_order():
    # A euro file with a decimal comma is probably day first; probably is a guess.
    parsed = parse_export(b"Datum;Text;Betrag (EUR)\n03/04/2026;A;1.140,00\n")
    assert parsed.rows == [] and parsed.date_question is not None


@pytest.mark.parametrize(
    ("given", "order", "fmt"),
    [
        ("DMY", "DMY", None),
        ("mdy", "MDY", None),
        ("YMD", "YMD", None),
        ("%d.%m.%y", None, "%d.%m.%y"),
        ("yyyy-mm-dd", None, "%Y-%m-%d"),
        ("dd Mon yyyy", None, "%d %b %Y"),
    ],
)
def test_date_formats_the_option_takes(given, order, fmt):
    spec = parse_date_format(given)
    assert (spec.order, spec.fmt) == (order, fmt)


@pytest.mark.parametrize("given", ["", "%Y", "%d/%m", "%H:%M %d/%m/%Y", "day first", "DDMM"])
def test_date_formats_the_option_refuses(given):
    with pytest.raises(DateFormatError):
        parse_date_format(given)


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("--date-format DMY", "DMY"),
        ("bank export, --date-format=%d/%m/%Y", "%d/%m/%Y"),
        ("date format: MDY", "MDY"),
        ("MDY please", "MDY"),
        ("(payments file bank.csv)", None),
        ("here's november", None),
    ],
)
def test_the_order_named_in_a_chat_message(message, named):
    assert date_format_in(message) == named


def test_a_telegram_document_with_the_order_as_its_caption(telegram_api, serve, sqlite_url):
    import time

    from tests.channels import TG_OPERATOR, telegram_settings

    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    seed(served.runtime.store)
    telegram_api.files["documents/csv1.eml"] = AMBIGUOUS.encode()  # the fake Bot API serves documents here

    def send(update_id: int, caption: str | None) -> str:
        message = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": TG_OPERATOR, "type": "private"},
            "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            "document": {
                "file_id": "csv1",
                "file_unique_id": f"csv{update_id}",
                "file_name": "bank.csv",
                "mime_type": "text/csv",
                "file_size": len(AMBIGUOUS),
            },
        }
        if caption:
            message["caption"] = caption
        before = len(telegram_api.recorded("sendMessage"))
        assert served.telegram_update({"update_id": update_id, "message": message}).status_code == 200
        return telegram_api.wait_for("sendMessage", before + 1)[-1]["text"]

    asked = send(7201, None)
    assert "is 03/04/2026 3 Apr 2026 (day first) or 4 Mar 2026 (month first)?" in asked
    assert "send the file again with the message “--date-format DMY”" in asked
    answered = send(7202, "--date-format DMY")
    assert "✓ line 2, 2026-04-03, $1,140.00 from Bob Lee INV-0002 → INV-0002" in answered
    assert status(served.runtime.store, "INV-0002")[0] == "paid"


def test_the_date_question_comes_first_and_the_rows_questions_follow_it(store, coo, tmp_path):
    # 03/03/2026 reads the same either way, so its row is decided; the others wait for the order.
    out = run(coo, write(tmp_path, AMBIGUOUS + "03/03/2026,Wire GLOBEX LOGISTICS GMBH,99.00\n"))
    assert "0 matched · 2 to ask about" in out
    assert "  1. lines 2, 3: is 03/04/2026" in out
    assert (
        "  2. line 4, 2026-03-03, $99.00 from Wire GLOBEX LOGISTICS GMBH: Is GLOBEX LOGISTICS GMBH the same as " in out
    )
