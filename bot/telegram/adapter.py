"""The Telegram adapter: a python-telegram-bot Application whose handlers normalise and hand off.

Messages become Envelopes keyed by ``update_id`` (so a redelivered update runs once); taps on
the inline keyboard are answered at once (the button stops spinning) and queued as
``/approve N`` or ``/reject N``; strangers get a polite refusal and change nothing.
"""

from __future__ import annotations

import logging
import re

from telegram import Document, InlineKeyboardMarkup, Message, Update, User
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
from bot.offers import OFFER_ACTION, tapped_command
from bot.payload_shape import shape
from bot.telegram.files import document_entry
from bot.telegram.forwards import as_email, origin_of
from bot.telegram.outcome import current_update
from graphs.commands import Decide, Verdict
from graphs.envelope import Envelope
from graphs.payments_intake import looks_like_csv

log = logging.getLogger(__name__)

DECISION = re.compile(r"^coo:(approve|reject):(\d+)$")
ALLOWED_UPDATES = ["message", "callback_query"]
EML = filters.Document.FileExtension("eml") | filters.Document.MimeType("message/rfc822")
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
        if document is not None and _is_file_for_coo(document):
            # Saved as it is; the job downloads it (bot.telegram.files), so this handler makes no
            # network call and a failed download is told to the operator from the worker.
            purpose = "payments" if looks_like_csv(document.file_name, document.mime_type) else "email"
            self.intake.telegram_file(document_entry(document.to_dict()), purpose, env, reply_ref=ref)
            return
        forward = origin_of(message)
        if forward is not None and text.strip():
            self.intake.email(as_email(message, text, forward), env, reply_ref=ref, chat_forward=forward.model_dump())
            return
        self.intake.submit(env, addressed=addressed, reply_ref=ref)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        offer = OFFER_ACTION.match(query.data or "")
        if offer is not None and query.message is not None:
            await self._offer(update, int(offer.group(1)))
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

    async def _offer(self, update: Update, number: int) -> None:
        """A tap on a policy suggestion's button: the operator's `/policy accept N` (the gate has
        already answered anyone else); the core checks the offer still stands and replies."""
        query = update.callback_query
        assert query is not None and query.message is not None
        env = Envelope(
            channel="telegram",
            event_id=str(update.update_id),
            thread_id=str(query.message.chat.id),
            user_id=str(query.from_user.id),
            text=tapped_command(number),
        )
        try:
            self.intake.submit(env, post_ack=False)
        except Exception:
            await query.answer("I couldn't record that; please tap again in a moment.", show_alert=True)
            raise
        await query.answer(f"Applying suggestion #{number}…")
        # The button goes at once, so a second tap can't race the first; the reply says the outcome.
        # (A digest has other rows: only the tapped button's row goes.)
        data = f"coo:offer:{number}"
        markup = query.message.reply_markup if isinstance(query.message, Message) else None
        rows = (
            [row for row in markup.inline_keyboard if not any(b.callback_data == data for b in row)] if markup else []
        )
        await query.edit_message_reply_markup(reply_markup=InlineKeyboardMarkup(rows) if rows else None)


def _is_file_for_coo(document: Document) -> bool:
    """An e-mail (.eml) or a bank/provider export (CSV/TSV)."""
    name = (document.file_name or "").lower()
    return (
        document.mime_type == "message/rfc822"
        or name.endswith(".eml")
        or looks_like_csv(document.file_name, document.mime_type)
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
