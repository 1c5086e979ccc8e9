"""The Telegram adapter: translates Telegram updates to the engine's neutral types and back.

It never touches the database: everything goes through :class:`engine.client.EngineClient`.
Identity is always the update's own ``from_user``; nothing a person types can choose whose
history is read, exported or deleted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import texts
from bot.common import MAX_WEEKS, AskedOnce, MoodResultLike, where
from bot.delivery import Undelivered, deliver
from bot.split import TELEGRAM_LIMIT, split_message, utf16_len
from bot.telegram_updates import Dispatcher, InboxPoller, WebhookServer
from engine.client import EngineClient
from engine.errors import CheckinError
from engine.settings import Settings
from engine.types import IncomingMessage, MessageKind, Receipt, ReplySource, UserRef

log = logging.getLogger(__name__)

PLATFORM = "telegram"
CAPTION_LIMIT = 1024
# Only what the handlers below use; Telegram then never sends us anything else.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
CONSENT_DATA = re.compile(r"^consent:(yes|no):(\d+)$")
FORGET_DATA = re.compile(r"^forget:(yes|no):(\d+)$")
TYPING_REFRESH_S = 4.5  # Telegram shows a chat action for about 5 seconds
CARE_START = "care"  # /start care: the deep link under a crisis reply in a group

Context = ContextTypes.DEFAULT_TYPE


def user_ref(user_id: int) -> UserRef:
    return UserRef(PLATFORM, str(user_id))


def parse_weeks(args: Sequence[str]) -> int | None:
    """``/mood`` → 1, ``/mood 4w`` / ``4`` / ``4주`` → 4; None when it isn't a sensible period."""
    if not args:
        return 1
    match = re.fullmatch(r"(\d{1,2})\s*(?:w|W|주|weeks?)?", " ".join(args).strip())
    if match is None:
        return None
    weeks = int(match.group(1))
    return weeks if 1 <= weeks <= MAX_WEEKS else None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Different people's updates run concurrently (so the engine can batch their model calls);
    one person's updates run in order (so replies and conversation context keep their order).

    The person's own lock comes first, then one of ``slots`` concurrency slots: a backlog waits on
    its owner's lock holding no slot, so one person's flood can never fill the slots everyone else
    needs. (PTB's own semaphore is taken before ``do_process_update``, so it is set out of the way.)
    """

    def __init__(self, slots: int = 64) -> None:
        super().__init__(max_concurrent_updates=1 << 20)
        self._slots = asyncio.Semaphore(slots)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def _key(update: object) -> int | None:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return update.effective_user.id
            if update.effective_chat is not None:
                return update.effective_chat.id
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]  # nobody else waits: don't keep a lock per person forever
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class ActionsShown:
    """When each chat last got a chat action. Telegram shows one for about 5 seconds, so sending it
    again sooner adds nothing but an API call: a flood of 1,000 messages would otherwise cost 1,000
    calls against the bot's overall send rate, which everyone's replies share."""

    def __init__(self, cap: int = 10_000, clock: Any = time.monotonic) -> None:
        self._last: OrderedDict[tuple[int, str], float] = OrderedDict()
        self._cap = cap
        self._clock = clock

    def due(self, chat_id: int, action: str) -> bool:
        now = self._clock()
        key = (chat_id, action)
        last = self._last.pop(key, None)
        if last is not None and now - last < TYPING_REFRESH_S:
            self._last[key] = last
            return False
        self._last[key] = now
        while len(self._last) > self._cap:  # bounded: the oldest are the ones long expired
            self._last.popitem(last=False)
        return True


@contextlib.asynccontextmanager
async def chat_action(
    bot: ExtBot[None], chat: Chat, action: str, shown: ActionsShown | None = None
) -> AsyncIterator[None]:
    """Show "typing…" (or "sending a photo…") while the engine works, refreshed until it is done;
    not sent again while an earlier one is still showing (``shown``)."""

    async def send() -> None:
        if shown is not None and not shown.due(chat.id, action):
            return
        try:
            await bot.send_chat_action(chat_id=chat.id, action=action)
        except TelegramError as exc:  # a missing indicator must never cost the reply
            log.debug("chat action failed: %s", type(exc).__name__)

    async def refresh() -> None:
        while True:
            await send()
            await asyncio.sleep(TYPING_REFRESH_S)

    # Beside the work, never before it: a slow or hanging chat action must not hold up a reply
    # (least of all a crisis card). It still goes out first whenever the engine has work to do.
    task = asyncio.create_task(refresh())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def retryable(exc: BaseException) -> bool:
    """Network errors and 5xx (PTB raises both as NetworkError) are worth another try; a 400
    (BadRequest, also a NetworkError subclass) or a 403 is not. 429s are the rate limiter's."""
    return isinstance(exc, (NetworkError, OSError)) and not isinstance(exc, BadRequest)


def update_key(bot: ExtBot[None], update: Update) -> str:
    """The dedupe id: Telegram's update ids count per bot, so two bots on one database (or a new
    token) must not mistake each other's updates for duplicates."""
    return f"{bot.id}:{update.update_id}"


def quoted_texts(message: Message, bot: ExtBot[None]) -> tuple[str, ...]:
    """Words the person passed on with their message: a quoted part, the message they reply to
    (unless it is the bot's own), a forwarded story's text. Read for a crisis, not answered."""
    parts: list[str] = []
    if message.quote is not None and message.quote.text:
        parts.append(message.quote.text)
    replied = message.reply_to_message
    if replied is not None and (replied.from_user is None or replied.from_user.id != bot.id):
        parts.append(replied.text or replied.caption or "")
    return tuple(p for p in parts if p)


def _buttons(prefix: str, yes: str, no: str, owner: int) -> InlineKeyboardMarkup:
    # The owner's id rides along so that in a group only the person asked can answer.
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=f"{prefix}:yes:{owner}"),
                InlineKeyboardButton(no, callback_data=f"{prefix}:no:{owner}"),
            ]
        ]
    )


def consent_buttons(owner: int) -> InlineKeyboardMarkup:
    return _buttons("consent", texts.CONSENT_YES_BUTTON, texts.CONSENT_NO_BUTTON, owner)


def forget_buttons(owner: int) -> InlineKeyboardMarkup:
    return _buttons("forget", texts.FORGET_YES_BUTTON, texts.FORGET_NO_BUTTON, owner)


def _is_private(chat: Chat | None) -> bool:
    return chat is not None and chat.type == ChatType.PRIVATE


class TelegramAdapter:
    """The handlers, one per concern, bound to one engine."""

    def __init__(self, engine: EngineClient, retention_days: int) -> None:
        self.engine = engine
        self.retention_days = retention_days
        self.asked = AskedOnce()
        self.actions = ActionsShown()

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        app.add_handler(CommandHandler("start", self.start))
        app.add_handler(CommandHandler("help", self.help))
        app.add_handler(CommandHandler("mood", self.mood))
        app.add_handler(CommandHandler("export", self.export))
        app.add_handler(CommandHandler("forget", self.forget))
        app.add_handler(CommandHandler("checkin", self.checkin))
        app.add_handler(CommandHandler("timezone", self.timezone))

        async def send_checkin(user: UserRef, text: str) -> None:
            # A person's private chat with the bot has the person's id.
            await app.bot.send_message(chat_id=int(user.user_id), text=text)

        self.engine.register_checkin_sender(PLATFORM, send_checkin)
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.text))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.CAPTION, self.caption))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.edited))
        # Anything else a person sends (stickers, photos, voice, files…), but not service messages
        # such as "X joined the group".
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self.not_text))
        app.add_handler(CallbackQueryHandler(self.consent_button, pattern=CONSENT_DATA))
        app.add_handler(CallbackQueryHandler(self.forget_button, pattern=FORGET_DATA))
        app.add_handler(CallbackQueryHandler(self.stale_button))
        app.add_error_handler(self.error)

    # Addressing --------------------------------------------------------------------------------

    @staticmethod
    def _replies_to_bot(message: Message, bot: ExtBot[None]) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id

    @staticmethod
    def _strip_mentions(message: Message, bot: ExtBot[None]) -> tuple[str, bool]:
        """The text without mentions of this bot, and whether there was one."""
        text = message.text or ""
        handle = f"@{bot.username}".lower()
        mentioned = False
        entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        for entity, value in entities.items():
            if (entity.type == MessageEntity.MENTION and value.lower() == handle) or (
                entity.user is not None and entity.user.id == bot.id
            ):
                mentioned = True
                text = text.replace(value, " ")
        return " ".join(text.split()) if mentioned else text, mentioned

    def _addressed_text(self, message: Message, bot: ExtBot[None]) -> str | None:
        """The text meant for the bot: all of it in a private chat; in a group only when the bot
        was mentioned or replied to (None otherwise: the bot stays out of other conversations)."""
        if _is_private(message.chat):
            return message.text or ""
        text, mentioned = self._strip_mentions(message, bot)
        if mentioned or self._replies_to_bot(message, bot):
            return text
        return None

    async def _private_only(self, message: Message) -> bool:
        # A group must never see someone's mood, export or deletion.
        if _is_private(message.chat):
            return True
        await message.reply_text(texts.PRIVATE_ONLY)
        return False

    async def _send_long(self, message: Message, text: str, *, crisis: bool = False) -> bool:
        """Send ``text`` (in pieces if long), retrying network errors; False if it did not go out.
        Never followed by an error text: the reply may have arrived with only its answer lost."""
        quote = not _is_private(message.chat)
        try:
            for piece in split_message(text, TELEGRAM_LIMIT):
                await deliver(
                    functools.partial(message.reply_text, piece, do_quote=quote),
                    retryable=retryable,
                    crisis=crisis,
                    what="crisis card" if crisis else "reply",
                )
        except Undelivered:
            return False
        return True

    async def _acknowledge(self, receipt: Receipt | None) -> None:
        if receipt is None:
            return
        try:
            await self.engine.acknowledge(receipt)
        except Exception as exc:  # the reply is out; the history misses one point
            log.error("could not record a handled update: %s", type(exc).__name__)

    async def _ask_consent(self, message: Message, owner: int) -> None:
        try:
            await deliver(
                functools.partial(
                    message.reply_text,
                    texts.consent_prompt(self.retention_days),
                    reply_markup=consent_buttons(owner),
                    do_quote=False,
                ),
                retryable=retryable,
                what="consent question",
            )
        except Undelivered:
            self.asked.forget(user_ref(owner).key)  # asked again on a later message

    # Commands ----------------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None:
            return
        if not _is_private(message.chat):
            await message.reply_text(texts.GROUP_START)
            return
        if context.args == [CARE_START]:  # from the button under a group crisis reply
            card = await self.engine.referral(user_ref(sender.id))
            await self._send_long(message, card.reply, crisis=True)
            return
        self.asked.first_time(user_ref(sender.id).key)
        await message.reply_text(
            f"{texts.start_text(self.retention_days)}\n\n{texts.CONSENT_QUESTION}",
            reply_markup=consent_buttons(sender.id),
        )

    async def help(self, update: Update, context: Context) -> None:
        if update.message is not None:
            await update.message.reply_text(texts.HELP)

    async def mood(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None or not await self._private_only(message):
            return
        weeks = parse_weeks(context.args or [])
        if weeks is None:
            await message.reply_text(texts.MOOD_BAD_ARGUMENT.format(max_weeks=MAX_WEEKS))
            return
        mood = getattr(self.engine, "mood", None)
        if mood is None:  # the engine's weekly report is not there yet
            await message.reply_text(texts.MOOD_NOT_READY)
            return
        ref = user_ref(sender.id)
        if (await self.engine.user_status(ref)).consent is False:
            await message.reply_text(texts.MOOD_NO_CONSENT)
            return
        async with chat_action(context.bot, message.chat, ChatAction.UPLOAD_PHOTO, self.actions):
            result: MoodResultLike = await mood(ref, weeks=weeks)
        fits = utf16_len(result.summary) <= CAPTION_LIMIT
        await message.reply_photo(
            photo=result.chart_png, filename="mood.png", caption=result.summary if fits else None
        )
        if not fits:
            await self._send_long(message, result.summary)

    async def export(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None or not await self._private_only(message):
            return
        async with chat_action(context.bot, message.chat, ChatAction.UPLOAD_DOCUMENT, self.actions):
            data = await self.engine.export(user_ref(sender.id))
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        caption = texts.EXPORT_CAPTION if data.get("user") else texts.EXPORT_EMPTY_CAPTION
        await message.reply_document(document=payload, filename=texts.EXPORT_FILENAME, caption=caption)

    async def forget(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None or not await self._private_only(message):
            return
        await message.reply_text(texts.FORGET_CONFIRM, reply_markup=forget_buttons(sender.id))

    async def checkin(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None or not await self._private_only(message):
            return
        if not context.args:
            await message.reply_text(texts.CHECKIN_USAGE)
            return
        try:
            answer = await self.engine.set_checkin(user_ref(sender.id), " ".join(context.args))
        except CheckinError as exc:
            answer = str(exc)
        await message.reply_text(answer)

    async def timezone(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None or not await self._private_only(message):
            return
        if not context.args:
            await message.reply_text(texts.TIMEZONE_USAGE)
            return
        try:
            zone = context.args[0]
            await self.engine.set_timezone(user_ref(sender.id), zone)
            answer = texts.TIMEZONE_SET.format(zone=zone)
        except CheckinError as exc:
            answer = str(exc)
        await message.reply_text(answer)

    async def unknown_command(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        if not _is_private(message.chat):
            # In a group, only a command addressed to this bot (/foo@maeum_bot) is ours to answer.
            command = (message.text or "").split(maxsplit=1)[0]
            if not command.lower().endswith(f"@{context.bot.username}".lower()):
                return
        await message.reply_text(texts.UNKNOWN_COMMAND)

    # Messages ----------------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        message, sender = update.message, update.effective_user
        if message is None or sender is None:
            return
        text = self._addressed_text(message, context.bot)
        if text is None:
            return
        await self._converse(update, context, message, sender.id, text)

    async def caption(self, update: Update, context: Context) -> None:
        """A photo, video or file with words under it: the words are the message."""
        message, sender = update.message, update.effective_user
        if message is None or sender is None:
            return
        if not _is_private(message.chat) and not self._replies_to_bot(message, context.bot):
            return
        await self._converse(update, context, message, sender.id, message.caption or "")

    async def _converse(
        self, update: Update, context: Context, message: Message, sender_id: int, text: str
    ) -> None:
        ref = user_ref(sender_id)
        incoming = IncomingMessage(
            user=ref,
            text=text,
            update_id=update_key(context.bot, update),
            quoted=quoted_texts(message, context.bot),
            forwarded=message.forward_origin is not None,
            received_at=message.date,  # when it was sent: a backlog must not refill the rate limit
        )
        # The engine answers first (its crisis check needs nothing that can fail); the consent
        # lookup comes after, so a database outage cannot stand between a person and the card.
        async with chat_action(context.bot, message.chat, ChatAction.TYPING, self.actions):
            result = await self.engine.respond(incoming)
        if result.source is ReplySource.CRISIS and not _is_private(message.chat):
            await self._crisis_in_group(context, message, sender_id, result.reply)
            await self._acknowledge(result.receipt)
            return
        if result.reply:  # nothing at all for a duplicate or a notice already given
            delivered = await self._send_long(
                message, result.reply, crisis=result.source is ReplySource.CRISIS
            )
            if not delivered:
                return  # not recorded as handled: a redelivery gets answered
        await self._acknowledge(result.receipt)
        # First contact: the answer comes first, then the question, once — in the private chat
        # only, since consent is between the person and the bot, not something a group sees.
        # Never right after a crisis card (as on Discord): the question waits for a later message.
        if (
            result.reply
            and result.source is not ReplySource.CRISIS
            and _is_private(message.chat)
            and await self._consent_unset(ref)
            and self.asked.first_time(ref.key)
        ):
            await self._ask_consent(message, sender_id)

    async def _crisis_in_group(self, context: Context, message: Message, sender_id: int, card: str) -> None:
        """In a group the card goes to the person privately; the group sees one short, kind line
        with the emergency numbers and a button that opens the private chat (where /start care
        shows the card if the bot could not write first)."""
        privately = True
        try:
            await deliver(
                lambda: context.bot.send_message(chat_id=sender_id, text=card),
                retryable=retryable,
                crisis=True,
                what="crisis card",
            )
        except (Forbidden, BadRequest, Undelivered):  # they never started a private chat with the bot
            privately = False
        line = texts.GROUP_CRISIS_SENT if privately else texts.GROUP_CRISIS_OPEN
        button = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.GROUP_CRISIS_BUTTON,
                        url=f"https://t.me/{context.bot.username}?start={CARE_START}",
                    )
                ]
            ]
        )
        with contextlib.suppress(Undelivered):
            await deliver(
                lambda: message.reply_text(line, reply_markup=button, do_quote=True),
                retryable=retryable,
                crisis=True,
                what="crisis line",
            )

    async def _consent_unset(self, ref: UserRef) -> bool:
        try:
            return (await self.engine.user_status(ref)).consent is None
        except Exception as exc:  # the store is down: ask another time
            log.warning("could not read consent: %s", type(exc).__name__)
            return False

    async def not_text(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        if not _is_private(message.chat) and not self._replies_to_bot(message, context.bot):
            return
        await message.reply_text(texts.NOT_TEXT, do_quote=not _is_private(message.chat))

    async def edited(self, update: Update, context: Context) -> None:
        """An edit is read for a crisis ("사실 죽고 싶어" typed over an earlier message) but not
        answered again as a conversation."""
        message, sender = update.edited_message, update.effective_user
        if message is None or sender is None:
            return
        words = message.text or message.caption or ""
        if not _is_private(message.chat):
            addressed = self._addressed_text(message, context.bot)
            if addressed is None:
                return
            words = addressed
        result = await self.engine.respond(
            IncomingMessage(
                user=user_ref(sender.id),
                text=words,
                update_id=update_key(context.bot, update),
                quoted=quoted_texts(message, context.bot),
                kind=MessageKind.EDIT,
                received_at=message.edit_date or message.date,
            )
        )
        if result.source is ReplySource.CRISIS:
            if _is_private(message.chat):
                await self._send_long(message, result.reply, crisis=True)
            else:
                await self._crisis_in_group(context, message, sender.id, result.reply)
        elif _is_private(message.chat):
            await message.reply_text(texts.EDITED)
        await self._acknowledge(result.receipt)

    # Buttons -----------------------------------------------------------------------------------

    @staticmethod
    async def _owned(query: CallbackQuery, pattern: re.Pattern[str]) -> bool | None:
        """The yes/no answer when the person pressing is the person asked, else None."""
        match = pattern.match(query.data or "")
        if match is None:
            return None
        if int(match.group(2)) != query.from_user.id:
            await query.answer(texts.NOT_YOUR_BUTTON, show_alert=True)
            return None
        return match.group(1) == "yes"

    async def consent_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        granted = await self._owned(query, CONSENT_DATA)
        if granted is None:
            return
        await self.engine.set_consent(user_ref(query.from_user.id), granted)
        await query.answer()
        await query.edit_message_text(texts.CONSENT_GRANTED if granted else texts.CONSENT_DECLINED)

    async def forget_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        confirmed = await self._owned(query, FORGET_DATA)
        if confirmed is None:
            return
        if not confirmed:
            await query.answer()
            await query.edit_message_text(texts.FORGET_CANCELLED)
            return
        ref = user_ref(query.from_user.id)
        deleted = await self.engine.forget(ref)
        self.asked.forget(ref.key)  # consent went with the data: ask again next time
        await query.answer()
        await query.edit_message_text(texts.FORGET_DONE if deleted else texts.FORGET_NOTHING)

    async def stale_button(self, update: Update, context: Context) -> None:
        # Buttons from an older version or a different bot: stop the spinner, do nothing.
        if update.callback_query is not None:
            await update.callback_query.answer()

    # Errors ------------------------------------------------------------------------------------

    async def error(self, update: object, context: Context) -> None:
        """Log the failure (type and code location only: no message text, no token) and tell the
        person something went wrong."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed: %s at %s", update_id, type(error).__name__, where(error))
        if not isinstance(update, Update) or update.effective_chat is None or isinstance(error, Forbidden):
            return
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            # A send failed on the way (a 5xx, a timeout, a dropped connection): it may well have
            # arrived with only its answer lost, and the error text would go the same broken way.
            return
        try:
            await context.bot.send_message(update.effective_chat.id, texts.SOMETHING_WENT_WRONG)
        except TelegramError as exc:
            log.warning("could not tell the user about the failure: %s", type(exc).__name__)


async def _set_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    try:
        await app.bot.set_my_commands([BotCommand(name, about) for name, about in texts.TELEGRAM_COMMANDS])
    except TelegramError as exc:  # the menu is a nicety; the bot works without it
        log.warning("could not set the command menu: %s", type(exc).__name__)


def build_application(
    engine: EngineClient,
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    if settings.telegram_token is None:
        raise ValueError("MAEUM_TELEGRAM_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        # Honour 429 retry_after: wait and send again instead of losing the reply.
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(PerUserUpdateProcessor())
    )
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    app = builder.updater(None).build()  # bot/telegram_updates.py fetches the updates
    TelegramAdapter(engine, settings.retention_days).register(app)
    return app


def default_webhook_secret(token: str) -> str:
    """The webhook secret when none is configured: derived from the bot token (which whoever has
    it controls the bot with anyway), so every replica of the bot, and every restart, registers the
    same one. A random one per start made the replica that started last the only one Telegram's
    deliveries could pass: the others answered 403 to every update the proxy gave them."""
    digest = hmac.new(token.encode(), b"maeum telegram webhook secret", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")  # Telegram: A-Z a-z 0-9 _ -


class TelegramRunner:
    """Starts and stops one Application inside an already running event loop, so Telegram can
    share a process (and an engine) with Discord; long polling through the inbox, or a webhook when
    configured (see bot/telegram_updates.py for why neither loses an update)."""

    def __init__(self, engine: EngineClient, settings: Settings, *, poll_timeout: float = 10.0) -> None:
        # Our own HTTP clients (PTB's default pool sizes), so they can be closed even when start
        # fails half way (a rejected token): Application.shutdown() skips an app never initialized.
        self._requests = (HTTPXRequest(connection_pool_size=256), HTTPXRequest(connection_pool_size=1))
        self.app = build_application(
            engine, settings, request=self._requests[0], updates_request=self._requests[1]
        )
        self.engine = engine
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.webhook_secret: str | None = None
        self.dispatcher: Dispatcher | None = None
        self.poller: InboxPoller | None = None
        self.server: WebhookServer | None = None

    @property
    def webhook(self) -> bool:
        return bool(self.settings.telegram_webhook_url)

    async def start(self) -> None:
        await self.app.initialize()
        await _set_commands(self.app)  # post_init only runs under run_polling(), which owns the loop
        await self.app.start()
        self.dispatcher = Dispatcher(self.app, self.engine, channel=f"{PLATFORM}:{self.app.bot.id}")
        url = self.settings.telegram_webhook_url
        if url:
            secret = self.settings.telegram_webhook_secret
            if secret is not None:
                self.webhook_secret = secret.get_secret_value()
            else:
                assert self.settings.telegram_token is not None
                self.webhook_secret = default_webhook_secret(self.settings.telegram_token.get_secret_value())
            self.server = WebhookServer(
                self.app, self.dispatcher, path=urlsplit(url).path.strip("/"), secret=self.webhook_secret
            )
            self.server.listen(self.settings.telegram_webhook_listen, self.settings.telegram_webhook_port)
            await self.app.bot.set_webhook(
                url=url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info(
                "telegram: webhook server on %s:%s",
                self.settings.telegram_webhook_listen,
                self.settings.telegram_webhook_port,
            )
        else:
            self.poller = InboxPoller(
                self.app,
                self.engine,
                self.dispatcher,
                timeout_s=int(self.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
            )
            await self.poller.start()
            log.info("telegram: long polling")

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self.server is not None:
            await self.server.stop()
        if self.dispatcher is not None:
            await self.dispatcher.drain(10.0)
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        for request in self._requests:
            await request.shutdown()  # no-op when the application already closed it
