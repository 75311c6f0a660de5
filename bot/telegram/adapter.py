"""The Telegram adapter: a python-telegram-bot Application whose handlers normalise and hand off.

Messages become Envelopes keyed by ``update_id`` (so a redelivered update runs once); taps on
the inline keyboard are answered at once (the button stops spinning) and queued as
``/approve N`` or ``/reject N``; strangers get a polite refusal and change nothing.
"""

from __future__ import annotations

import logging
import re
from email.utils import format_datetime, formataddr

from telegram import Document, InlineKeyboardMarkup, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.intake import Intake, IntakeUnavailable, ReplyRef
from bot.payload_shape import shape
from bot.rfc822 import compose
from bot.telegram.outcome import current_update
from graphs.commands import Decide, Verdict
from graphs.envelope import Envelope
from graphs.payments_intake import looks_like_csv
from store.redaction import redact

log = logging.getLogger(__name__)

DECISION = re.compile(r"^coo:(approve|reject):(\d+)$")
ALLOWED_UPDATES = ["message", "callback_query"]
EML = filters.Document.FileExtension("eml") | filters.Document.MimeType("message/rfc822")
MAX_EML_BYTES = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB
# Bank/provider exports for the invoice reconciler (graphs.payments_intake).
CSV = (
    filters.Document.FileExtension("csv")
    | filters.Document.FileExtension("tsv")
    | filters.Document.MimeType("text/csv")
    | filters.Document.MimeType("text/comma-separated-values")
)


class TelegramAdapter:
    def __init__(self, application: Application, intake: Intake, operators: frozenset[str]) -> None:
        self.application = application
        self.intake = intake
        self.operators = operators
        self.operator = operator_filter(operators)
        # Who may talk, once, before every other handler: strangers are refused politely and
        # the update goes no further (ApplicationHandlerStop); bots are not heard at all.
        application.add_handler(TypeHandler(Update, self.gate), group=-1)
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & self.operator & (filters.TEXT | filters.CAPTION | EML | CSV),
                self.on_message,
            )
        )
        application.add_error_handler(self.on_error)

    def _is_operator(self, user: User) -> bool:
        """By id, or by @username (the filter's rule, for taps too: a tap's message is the bot's)."""
        return str(user.id) in self.operators or bool(
            user.username and {user.username, f"@{user.username}"} & self.operators
        )

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or self._is_operator(user):
            return
        if user.is_bot:
            raise ApplicationHandlerStop
        query = update.callback_query
        if query is not None:
            # Answered at the strangers' pace (bot.refusal_limit): a flood of taps costs no API calls.
            if self.intake.limiter.allow(f"telegram:{user.id}"):
                await query.answer("Only the operator can decide this; nothing was changed.", show_alert=True)
            raise ApplicationHandlerStop
        message = update.effective_message
        if message is not None:
            raw_text = message.text or message.caption or ""
            if _addressed(message, raw_text, context):
                text = _without_mention(raw_text, context.bot.username)
                self.intake.refuse(_envelope(update, message, user.id, text), reply_ref=_ref(message))
        raise ApplicationHandlerStop

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every handler's failure ends here, once: an input that could not be saved makes the
        webhook answer 503 (Telegram sends the update again); anything else is logged with the
        update's shape, not its contents."""
        error = context.error
        if isinstance(error, IntakeUnavailable):
            outcome = current_update.get()
            if outcome is not None:
                outcome.unsaved = True
            log.error("Telegram update not saved (%s); Telegram will retry it", error)
            return
        data = update.to_dict() if isinstance(update, Update) else update
        log.error(
            "Telegram update failed (%s: %s); shape: %s",
            type(error).__name__,
            str(error)[:200],
            shape(data),
            exc_info=error if not isinstance(error, KeyError | TypeError | ValueError) else None,
        )

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        raw_text = message.text or message.caption or ""
        text = _without_mention(raw_text, context.bot.username)
        env = _envelope(update, message, user.id, text)
        ref = _ref(message)
        addressed = _addressed(message, raw_text, context)
        document = message.document
        if (
            document is not None
            and looks_like_csv(document.file_name, document.mime_type)
            and (document.file_size or 0) <= MAX_EML_BYTES
        ):
            data = await _download(message, document)
            if data is not None:
                self.intake.payments(data, document.file_name or "payments.csv", env, reply_ref=ref)
            return
        try:
            raw = await self._email(message, text)
        except TelegramError as exc:
            await _tell_download_failed(message, exc)
            return
        if raw is not None:
            self.intake.email(raw, env, reply_ref=ref)
            return
        self.intake.submit(env, addressed=addressed, reply_ref=ref)

    async def _email(self, message: Message, text: str) -> bytes | None:
        """An .eml document (its bytes), or a forwarded message rebuilt as an e-mail; else None."""
        document = message.document
        if document is not None and (
            document.mime_type == "message/rfc822" or (document.file_name or "").lower().endswith(".eml")
        ):
            if (document.file_size or 0) > MAX_EML_BYTES:
                return None
            file = await document.get_file()
            return bytes(await file.download_as_bytearray())
        origin = message.forward_origin
        if origin is None:
            return None
        sender = getattr(origin, "sender_user", None)
        name = (
            (sender.full_name if sender else None)
            or getattr(origin, "sender_user_name", None)
            or getattr(getattr(origin, "chat", None), "title", None)
            or "unknown sender"
        )
        subject = next((line for line in text.splitlines() if line.strip()), "Forwarded message")[:120]
        # A Telegram forward carries a name, never an address: it is filed under that name and
        # gets no reply draft (there is nobody to reply to by e-mail), never a made-up address.
        return compose(
            body=text,
            sender=formataddr((f"{name} (via Telegram)", "")),
            subject=subject,
            date=format_datetime(origin.date) if origin.date else None,
        )

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        match = DECISION.match(query.data or "")
        if match is None or query.message is None:
            await query.answer("This button is no longer active.")
            return
        verb, number = match.groups()
        verdict: Verdict = "approve" if verb == "approve" else "reject"
        env = Envelope(
            channel="telegram",
            event_id=str(update.update_id),
            thread_id=str(query.message.chat.id),
            user_id=str(query.from_user.id),
            text=f"(tapped {verb.capitalize()} on #{number})",
            command=Decide(approval_id=int(number), verdict=verdict),
        )
        try:
            # The card is updated in place once the decision is recorded: no "Approved." reply.
            self.intake.submit(env, post_ack=False)
        except Exception:
            await query.answer("I couldn't record that; please tap again in a moment.", show_alert=True)
            raise
        await query.answer(f"{'Approving' if verb == 'approve' else 'Rejecting'} #{number}…")
        # Buttons go at once, so a second tap can't race the first; the text follows from delivery.
        # (The digest has a row per approval: only the tapped approval's row goes.)
        await query.edit_message_reply_markup(reply_markup=_without(query.message, number))


async def _download(message: Message, document: Document) -> bytes | None:
    """A document's bytes; a failed download is said to the operator (and logged), never dropped."""
    try:
        file = await document.get_file()
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        await _tell_download_failed(message, exc)
        return None


async def _tell_download_failed(message: Message, exc: Exception) -> None:
    name = message.document.file_name if message.document else None
    log.error("Telegram download of %s failed: %s", name or "a file", exc)
    # PTB's errors can quote the file URL, which carries the bot token.
    await message.reply_text(
        f"I couldn't download {name or 'that file'} from Telegram ({redact(str(exc))}). "
        "Nothing was filed; please send it again."
    )


def operator_filter(operators: frozenset[str]) -> filters.User:
    """COO_TELEGRAM_OPERATORS as a PTB filter: numeric user ids, or @usernames."""
    ids = [int(o) for o in operators if o.lstrip("-").isdigit()]
    names = [o.lstrip("@") for o in operators if not o.lstrip("-").isdigit()]
    return filters.User(user_id=ids or None, username=names or None, allow_empty=False)


def _without_mention(text: str, username: str | None) -> str:
    if not username:
        return text
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.I).strip()


def _addressed(message: Message, text: str, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Said to coo (``text`` as written): in a private chat, mentioning it, replying to it, or a
    /command."""
    username = context.bot.username
    mentioned = bool(username) and f"@{username}".lower() in text.lower()
    replied_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.id == context.bot.id
    )
    command = _without_mention(text, username).startswith("/")
    return message.chat.type == "private" or mentioned or replied_to_bot or command


def _envelope(update: Update, message: Message, user_id: int, text: str) -> Envelope:
    return Envelope(
        channel="telegram",
        event_id=str(update.update_id),
        thread_id=str(message.chat_id),
        user_id=str(user_id),
        text=text,
    )


def _ref(message: Message) -> ReplyRef:
    return ReplyRef(platform="telegram", chat_id=str(message.chat_id), ref=str(message.message_id))


def _without(message: object, approval_id: str) -> InlineKeyboardMarkup | None:
    """The message's keyboard minus the rows deciding ``approval_id``; None when nothing is left."""
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return None
    mine = (f"coo:approve:{approval_id}", f"coo:reject:{approval_id}")
    rows = [row for row in markup.inline_keyboard if not any(b.callback_data in mine for b in row)]
    return InlineKeyboardMarkup(rows) if rows else None


def build_telegram_app(
    *, token: str, api_url: str, polling: bool, intake: Intake, operators: frozenset[str]
) -> TelegramAdapter:
    """An Application talking to ``api_url``; with ``polling`` it gets an Updater for getUpdates."""
    root = api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        # Handlers answer callback queries while the delivery thread sends: more than one connection.
        .connection_pool_size(8)
        .pool_timeout(10.0)
    )
    if not polling:
        builder = builder.updater(None)
    return TelegramAdapter(builder.build(), intake, operators)
