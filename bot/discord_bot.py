"""The Discord adapter: slash commands and DMs translated to the engine's neutral types and back.

It never touches the database: everything goes through :class:`engine.client.EngineClient`.
Identity is always ``interaction.user`` / ``message.author`` as Discord delivered it; no command
argument can choose whose history is read, exported or deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from bot.common import MAX_WEEKS, AskedOnce, MoodResultLike, ShardPlan, shard_plan, where
from bot.delivery import Undelivered, deliver
from bot.split import DISCORD_LIMIT, split_message
from engine.client import EngineClient
from engine.errors import CheckinError
from engine.settings import Settings
from engine.types import ConversationResult, IncomingMessage, MessageKind, Receipt, ReplySource, UserRef

log = logging.getLogger(__name__)

PLATFORM = "discord"
EMBED_DESCRIPTION_LIMIT = 4096
FORGET_TIMEOUT_S = 120.0
MOOD_COLOUR = discord.Colour.from_rgb(0x7A, 0x9E, 0xC8)


def retryable(exc: BaseException) -> bool:
    """Connection errors and 5xx left after discord.py's own retries; never a 4xx."""
    return isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.DiscordServerError))


def user_ref(user: discord.abc.Snowflake) -> UserRef:
    return UserRef(PLATFORM, str(user.id))


async def tell_failure(interaction: discord.Interaction[Any]) -> None:
    """Say something went wrong, whichever stage the interaction is at."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(texts.SOMETHING_WENT_WRONG, ephemeral=True)
        else:
            await interaction.response.send_message(texts.SOMETHING_WENT_WRONG, ephemeral=True)
    except Exception as exc:  # the connection itself may be what failed
        log.warning("could not tell the user about the failure: %s", type(exc).__name__)


TYPING_EVERY_S = 8.0  # Discord shows "typing…" for about 10 s per call
TYPING_HEAD_START_S = 1.0  # how long an ordinary reply waits for its first "typing…" at most


class TypingIndicator:
    """ "Typing…" in a channel while the engine works, on its own task: best effort, never awaited
    before the answer and never an error for the conversation."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self._first = asyncio.Event()
        self._task = asyncio.create_task(self._run(channel))

    async def _run(self, channel: discord.abc.Messageable) -> None:
        try:
            while True:
                try:
                    await channel.typing()  # one typing call (the context manager would wait on it)
                finally:
                    self._first.set()
                await asyncio.sleep(TYPING_EVERY_S)
        except Exception as exc:
            log.debug("typing indicator failed: %s", type(exc).__name__)

    async def shown(self, within: float) -> None:
        """Wait (bounded) until the first typing call has been answered."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first.wait(), within)

    def stop(self) -> None:
        self._task.cancel()


class ConsentView(discord.ui.View):
    """The 동의 / 동의하지 않음 buttons. Persistent (fixed custom ids, no timeout) and registered in
    ``setup_hook``, so a press still works after a restart; whoever presses decides for themselves."""

    def __init__(self, engine: EngineClient) -> None:
        super().__init__(timeout=None)
        self.engine = engine

    async def _answer(self, interaction: discord.Interaction[Any], granted: bool) -> None:
        await self.engine.set_consent(user_ref(interaction.user), granted)
        await interaction.response.edit_message(
            content=texts.CONSENT_GRANTED if granted else texts.CONSENT_DECLINED, view=None
        )

    @discord.ui.button(
        label=texts.CONSENT_YES_BUTTON, style=discord.ButtonStyle.primary, custom_id="maeum:consent:yes"
    )
    async def agree(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._answer(interaction, True)

    @discord.ui.button(
        label=texts.CONSENT_NO_BUTTON, style=discord.ButtonStyle.secondary, custom_id="maeum:consent:no"
    )
    async def decline(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._answer(interaction, False)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("discord consent button failed: %s at %s", type(error).__name__, where(error))
        await tell_failure(interaction)


class ForgetView(discord.ui.View):
    """Confirm /forget with a button; only the person who asked can press it."""

    def __init__(self, engine: EngineClient, asked: AskedOnce, owner_id: int) -> None:
        super().__init__(timeout=FORGET_TIMEOUT_S)
        self.engine = engine
        self.asked = asked
        self.owner_id = owner_id
        self.origin: discord.Interaction[Any] | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(texts.NOT_YOUR_BUTTON, ephemeral=True)
            return False
        return True

    @discord.ui.button(label=texts.FORGET_YES_BUTTON, style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.defer()  # deleting and scrubbing may take a moment
        ref = user_ref(interaction.user)
        deleted = await self.engine.forget(ref)
        self.asked.forget(ref.key)  # consent went with the data: ask again next time
        await interaction.edit_original_response(
            content=texts.FORGET_DONE if deleted else texts.FORGET_NOTHING, view=None
        )

    @discord.ui.button(label=texts.FORGET_NO_BUTTON, style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content=texts.FORGET_CANCELLED, view=None)

    async def on_timeout(self) -> None:
        if self.origin is not None:
            try:
                await self.origin.edit_original_response(content=texts.FORGET_EXPIRED, view=None)
            except discord.HTTPException as exc:
                log.debug("could not mark /forget as expired: %s", type(exc).__name__)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("discord forget button failed: %s at %s", type(error).__name__, where(error))
        await tell_failure(interaction)


class MaeumCog(commands.Cog):
    """The slash commands and the DM conversation."""

    def __init__(self, bot: MaeumDiscordBot) -> None:
        self.bot = bot
        self.engine = bot.engine
        self.asked = bot.asked

    # Helpers -----------------------------------------------------------------------------------

    def consent_prompt(self) -> str:
        return texts.consent_prompt(self.bot.retention_days)

    async def _respond(self, message: IncomingMessage) -> tuple[ConversationResult, bool]:
        """The engine's answer, and whether this is the first contact to ask for consent."""
        # The engine answers first (its crisis check needs nothing that can fail); the consent
        # lookup comes after, so a database outage cannot stand between a person and the card.
        result = await self.engine.respond(message)
        if not result.reply or result.source is ReplySource.CRISIS:
            return result, False
        try:
            unset = (await self.engine.user_status(message.user)).consent is None
        except Exception as exc:  # the store is down: ask another time
            log.warning("could not read consent: %s", type(exc).__name__)
            unset = False
        return result, unset and self.asked.first_time(message.user.key)

    async def _send(self, send: Callable[[], Awaitable[Any]], *, crisis: bool) -> bool:
        try:
            await deliver(send, retryable=retryable, crisis=crisis, what="crisis card" if crisis else "reply")
        except Undelivered:
            return False
        return True

    async def _acknowledge(self, receipt: Receipt | None) -> None:
        if receipt is None:
            return
        try:
            await self.engine.acknowledge(receipt)
        except Exception as exc:  # the reply is out; the history misses one point
            log.error("could not record a handled message: %s", type(exc).__name__)

    def _incoming(self, message: discord.Message, text: str, *, kind: MessageKind) -> IncomingMessage:
        # When it was sent (or edited): a backlog worked through later must not refill the rate limit.
        sent_at = (message.edited_at if kind is MessageKind.EDIT else None) or message.created_at
        quoted: list[str] = []
        forwarded = False
        for snapshot in getattr(message, "message_snapshots", None) or []:  # a forwarded message
            if snapshot.content:
                quoted.append(snapshot.content)
                forwarded = True
        reference = self._replied_to(message)
        me = self.bot.user
        if isinstance(reference, discord.Message) and (me is None or reference.author.id != me.id):
            if reference.content:
                quoted.append(reference.content)
        if forwarded and not text.strip():  # only the forward itself: its words are the message
            return IncomingMessage(
                user=user_ref(message.author),
                text=" ".join(quoted),
                update_id=self._update_key(message.id),
                forwarded=True,
                kind=kind,
                received_at=sent_at,
            )
        return IncomingMessage(
            user=user_ref(message.author),
            text=text,
            update_id=self._update_key(message.id),
            quoted=tuple(quoted),
            kind=kind,
            received_at=sent_at,
        )

    @staticmethod
    def _replied_to(message: discord.Message) -> discord.Message | None:
        """The message this one replies to: as the gateway sent it along, or from the cache when
        it didn't (a reply's crisis may be in the words it answers)."""
        ref = message.reference
        if ref is None or ref.type is not discord.MessageReferenceType.reply:
            return None
        if isinstance(ref.resolved, discord.Message):
            return ref.resolved
        return ref.cached_message

    def _update_key(self, snowflake: int) -> str:
        # One database may serve several bots: the dedupe id carries this bot's identity.
        return f"{self.bot.application_id or 0}:{snowflake}"

    # Slash commands ----------------------------------------------------------------------------

    @app_commands.command(name="talk", description=texts.DISCORD_TALK_DESCRIPTION)
    @app_commands.describe(message=texts.DISCORD_TALK_MESSAGE)
    async def talk(
        self, interaction: discord.Interaction[Any], message: app_commands.Range[str, 1, 2000]
    ) -> None:
        # In a server only the person sees the exchange: it is their feelings, not the channel's.
        private = interaction.guild_id is not None
        await interaction.response.defer(thinking=True, ephemeral=private)  # models: the 3-second rule
        incoming = IncomingMessage(
            user=user_ref(interaction.user),
            text=message,
            update_id=self._update_key(interaction.id),
            received_at=interaction.created_at,
        )
        result, ask = await self._respond(incoming)
        crisis = result.source is ReplySource.CRISIS
        for piece in split_message(result.reply, DISCORD_LIMIT) if result.reply else []:
            send = functools.partial(interaction.followup.send, piece, ephemeral=private)
            if not await self._send(send, crisis=crisis):
                return
        await self._acknowledge(result.receipt)
        if ask:
            view = ConsentView(self.engine)
            await interaction.followup.send(self.consent_prompt(), view=view, ephemeral=True)

    @app_commands.command(name="mood", description=texts.DISCORD_MOOD_DESCRIPTION)
    @app_commands.describe(weeks=texts.DISCORD_MOOD_WEEKS)
    async def mood(
        self, interaction: discord.Interaction[Any], weeks: app_commands.Range[int, 1, MAX_WEEKS] = 1
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        mood = getattr(self.engine, "mood", None)
        if mood is None:  # the engine's weekly report is not there yet
            await interaction.followup.send(texts.MOOD_NOT_READY, ephemeral=True)
            return
        ref = user_ref(interaction.user)
        if (await self.engine.user_status(ref)).consent is not True:
            await interaction.followup.send(texts.DISCORD_MOOD_NO_CONSENT, ephemeral=True)
            return
        result: MoodResultLike = await mood(ref, weeks=weeks)
        embed = discord.Embed(description=result.summary[:EMBED_DESCRIPTION_LIMIT], colour=MOOD_COLOUR)
        embed.set_image(url="attachment://mood.png")
        chart = discord.File(io.BytesIO(result.chart_png), filename="mood.png")
        await interaction.followup.send(embed=embed, file=chart, ephemeral=True)

    @app_commands.command(name="export", description=texts.DISCORD_EXPORT_DESCRIPTION)
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self.engine.export(user_ref(interaction.user))
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        caption = texts.EXPORT_CAPTION if data.get("user") else texts.EXPORT_EMPTY_CAPTION
        document = discord.File(io.BytesIO(payload), filename=texts.EXPORT_FILENAME)
        await interaction.followup.send(caption, file=document, ephemeral=True)

    @app_commands.command(name="forget", description=texts.DISCORD_FORGET_DESCRIPTION)
    async def forget(self, interaction: discord.Interaction[Any]) -> None:
        view = ForgetView(self.engine, self.asked, interaction.user.id)
        await interaction.response.send_message(texts.FORGET_CONFIRM, view=view, ephemeral=True)
        view.origin = interaction

    @app_commands.command(name="checkin", description=texts.DISCORD_CHECKIN_DESCRIPTION)
    @app_commands.describe(time=texts.DISCORD_CHECKIN_TIME)
    async def checkin(self, interaction: discord.Interaction[Any], time: str) -> None:
        try:
            answer = await self.engine.set_checkin(user_ref(interaction.user), time)
        except CheckinError as exc:
            answer = str(exc)
        await interaction.response.send_message(answer, ephemeral=True)

    @app_commands.command(name="timezone", description=texts.DISCORD_TIMEZONE_DESCRIPTION)
    @app_commands.describe(zone=texts.DISCORD_TIMEZONE_ZONE)
    async def timezone(self, interaction: discord.Interaction[Any], zone: str) -> None:
        try:
            await self.engine.set_timezone(user_ref(interaction.user), zone)
            answer = texts.TIMEZONE_SET.format(zone=zone.strip())
        except CheckinError as exc:
            answer = str(exc)
        await interaction.response.send_message(answer, ephemeral=True)

    @app_commands.command(name="consent", description=texts.DISCORD_CONSENT_DESCRIPTION)
    async def consent(self, interaction: discord.Interaction[Any]) -> None:
        """Say yes or no again at any time (the first prompt only comes once)."""
        status = await self.engine.user_status(user_ref(interaction.user))
        current = texts.CONSENT_NOW_YES if status.consent else texts.CONSENT_NOW_NO
        await interaction.response.send_message(
            f"{current}\n\n{self.consent_prompt()}", view=ConsentView(self.engine), ephemeral=True
        )

    @app_commands.command(name="help", description=texts.DISCORD_HELP_DESCRIPTION)
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(texts.DISCORD_HELP, ephemeral=True)

    # Messages ----------------------------------------------------------------------------------

    def _addressed_text(self, message: discord.Message) -> str | None:
        """All of a DM; in a server only a message that mentions the bot (without the mention).
        Anything else is not ours to read."""
        me = self.bot.user
        if me is None:
            return None
        if isinstance(message.channel, discord.DMChannel):
            return message.content
        if any(user.id == me.id for user in message.mentions):
            return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None:
            return
        text = self._addressed_text(message)
        if text is None:
            return
        incoming = self._incoming(message, text, kind=MessageKind.MESSAGE)
        try:
            only_media = not incoming.text.strip() and not incoming.quoted
            if only_media and (message.attachments or message.stickers):
                await message.channel.send(texts.NOT_TEXT)
                return
            # "Typing…" runs beside the engine, never before it: a failing or slow typing call
            # (discord.py retries a 5xx for ~25 s) must not stand between a person and the card.
            typing = TypingIndicator(message.channel)
            try:
                result, ask = await self._respond(incoming)
                if result.source is not ReplySource.CRISIS:
                    await typing.shown(TYPING_HEAD_START_S)  # "typing…" before the reply, not after
            except Exception as exc:  # no reply went out: saying so is true
                typing.stop()
                log.error("discord message failed: %s at %s", type(exc).__name__, where(exc))
                await self._send(
                    functools.partial(message.channel.send, texts.SOMETHING_WENT_WRONG), crisis=False
                )
                return
            finally:
                typing.stop()
            await self._deliver_to_channel(message, result)
            if ask:
                # In a server the question goes to a DM: consent is between the person and the bot.
                in_dm = isinstance(message.channel, discord.DMChannel)
                target = message.channel if in_dm else message.author
                await target.send(self.consent_prompt(), view=ConsentView(self.engine))
        except discord.Forbidden as exc:  # DMs closed, or no permission to write here
            log.info("discord: could not write to the channel: %s", type(exc).__name__)
        except Exception as exc:
            log.error("discord message failed: %s at %s", type(exc).__name__, where(exc))

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edit is read for a crisis; in a DM the person hears that edits aren't re-read.

        The raw event, not ``on_message_edit``: that one only fires for messages still in this
        process's cache, so an edit after a restart (or of an older message) would go unread."""
        after, before = payload.message, payload.cached_message
        if after.author.bot or after.webhook_id is not None:
            return
        if before is not None and before.content == after.content:
            return  # an embed or a pin, not new words
        if before is None and after.edited_at is None:
            return  # not an edit of the text (a link preview arriving, say)
        text = self._addressed_text(after)
        if text is None:
            return
        try:
            result, _ = await self._respond(self._incoming(after, text, kind=MessageKind.EDIT))
            if result.source is ReplySource.CRISIS:
                await self._deliver_to_channel(after, result)
            elif isinstance(after.channel, discord.DMChannel):
                await after.channel.send(texts.EDITED)
                await self._acknowledge(result.receipt)
        except Exception as exc:
            log.error("discord edit failed: %s at %s", type(exc).__name__, where(exc))

    async def _deliver_to_channel(self, message: discord.Message, result: ConversationResult) -> None:
        in_dm = isinstance(message.channel, discord.DMChannel)
        crisis = result.source is ReplySource.CRISIS
        if crisis and not in_dm:
            await self._crisis_in_server(message, result.reply)
            await self._acknowledge(result.receipt)
            return
        for piece in split_message(result.reply, DISCORD_LIMIT) if result.reply else []:
            if in_dm:
                send = functools.partial(message.channel.send, piece)
            else:
                send = functools.partial(message.reply, piece, mention_author=False)
            if not await self._send(send, crisis=crisis):
                return  # not recorded as handled; never followed by an error text
        await self._acknowledge(result.receipt)

    async def _crisis_in_server(self, message: discord.Message, card: str) -> None:
        """The card goes to a DM; the channel sees one short line with the emergency numbers. If
        the DM is closed, the card itself is posted: safety first."""
        try:
            await deliver(
                lambda: message.author.send(card), retryable=retryable, crisis=True, what="crisis card"
            )
            line = texts.DISCORD_CRISIS_SENT
        except (discord.Forbidden, discord.HTTPException, Undelivered):
            line = card
        for piece in split_message(line, DISCORD_LIMIT):
            await self._send(functools.partial(message.reply, piece, mention_author=False), crisis=True)


class MaeumDiscordBot(commands.Bot):
    """The bot. With ``MAEUM_DISCORD_SHARD_COUNT`` set, ``MaeumDiscordBot(engine, settings)`` is a
    :class:`ShardedMaeumDiscordBot` (discord.py's AutoShardedBot) running the shards in
    ``MAEUM_DISCORD_SHARD_IDS`` (all of them when empty), so several processes split the gateway;
    unset, it is a plain ``commands.Bot`` with one connection, Discord's default."""

    def __new__(cls, engine: EngineClient, settings: Settings) -> MaeumDiscordBot:
        sharded = cls is MaeumDiscordBot and settings.discord_shard_count is not None
        return object.__new__(ShardedMaeumDiscordBot if sharded else cls)

    def __init__(self, engine: EngineClient, settings: Settings) -> None:
        self.shards_plan: ShardPlan | None = shard_plan(settings.discord_shard_count, settings.shard_ids)
        sharding: dict[str, Any] = {}
        if self.shards_plan is not None:
            ids = self.shards_plan.ids
            sharding = {
                "shard_count": self.shards_plan.count,
                "shard_ids": None if ids is None else list(ids),
            }
        # No message content intent: Discord still gives the bot DMs and messages that mention it,
        # which are the only ones it answers; no members or presences either.
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        intents.guild_messages = True
        # maeum never joins voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, help_command=None, **sharding
        )
        if settings.discord_api_base:
            # A self-hosted proxy or a test server; webhook follow-ups use the same Route.
            discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        self.engine = engine
        self.retention_days = settings.retention_days
        self.guild_id = settings.discord_guild_id
        self.asked = AskedOnce()
        self.tree.error(self.on_app_command_error)

    async def setup_hook(self) -> None:
        await self.add_cog(MaeumCog(self))
        self.engine.register_checkin_sender(PLATFORM, self.send_checkin)
        self.add_view(ConsentView(self.engine))
        if self.shards_plan is not None:
            log.info("discord: running %s", self.shards_plan.describe())
        # Slash commands belong to the application, not to a shard: one sync is the whole of it.
        # Only the process with shard 0 (there is exactly one in any plan) syncs, so N shard
        # processes do not PUT the same list N times at every start against a rate-limited
        # endpoint, nor race each other in a rolling deploy, where an old process syncing last
        # would put the old commands back.
        if not self.syncs_commands:
            log.info("discord: slash commands are synced by the process that runs shard 0")
            return
        if self.guild_id:
            # One server: commands show up at once (global ones take a while to propagate).
            guild = discord.Object(id=self.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        scope = "guild" if self.guild_id else "global"
        log.info("discord: %d slash commands synced (%s)", len(synced), scope)

    @property
    def syncs_commands(self) -> bool:
        return self.shards_plan is None or self.shards_plan.owns_shard_zero

    async def send_checkin(self, user: UserRef, text: str) -> None:
        recipient = self.get_user(int(user.user_id)) or await self.fetch_user(int(user.user_id))
        await recipient.send(text)  # a DM: someone's check-in never goes to a server channel

    async def on_message(self, message: discord.Message, /) -> None:
        # No prefix commands: without this override commands.Bot would parse every mention as one
        # and log "command not found" with the message's words. The cog handles messages.
        return None

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        name = interaction.command.name if interaction.command else "?"
        log.error("discord /%s failed: %s at %s", name, type(cause).__name__, where(cause))
        await tell_failure(interaction)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        log.error("discord event %s failed: %s at %s", event_method, type(error).__name__, where(error))


class ShardedMaeumDiscordBot(MaeumDiscordBot, commands.AutoShardedBot):
    """:class:`MaeumDiscordBot` on discord.py's AutoShardedBot: the shards of ``shards_plan`` over
    one connection each, in this process. Built by ``MaeumDiscordBot(engine, settings)`` when
    ``MAEUM_DISCORD_SHARD_COUNT`` is set; DMs arrive on shard 0, a server's events on its shard."""
