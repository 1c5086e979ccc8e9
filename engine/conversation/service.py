"""One message in, one neutral result out: crisis check → emotion → reply; recorded on delivery.

Reply policy, in order (``ConversationResult.source`` says which one answered):
1. the crisis card, before any model or database;
2. a short follow-up ("응", "그래서 더 힘들어") while a situation is open: that situation again;
3. the reply bank, when the matcher is confident about a situation whose emotions agree with a
   confident emotion reading (so "팀장님한테 혼났어" never gets "승진 축하드려요"); else, when it
   is confident about the domain only (work, family…), that domain's general replies;
4. a wellness-intent answer, when that model is configured and confident;
5. a generated reply, when a generator is configured, that passes the output check;
6. a reflective reply that fits the feeling (or assumes none when it is uncertain) and invites
   the person to say more: never a reply about the wrong situation.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from engine.conversation.bank import ReplyBank, ReplyPicker, Situation, SituationMemory, domain_of
from engine.conversation.context import ContextMemory
from engine.conversation.feelings import POSITIVE, tells_a_death
from engine.conversation.first import screen_message
from engine.conversation.ratelimit import RateLimiter, Verdict
from engine.conversation.referral import referral_options
from engine.conversation.reflective import FOLLOW_UP, listening, reflective_options
from engine.conversation.restate import restate
from engine.conversation.shaping import shaped_options
from engine.conversation.text import clean_input
from engine.errors import MaeumError
from engine.inference import GenerationRequest, SituationMatch
from engine.safety import (
    CRISIS_CARD,
    HEIGHTENED_REPLY_SUFFIX,
    CrisisScreen,
    CrisisTracker,
    bounded,
    is_safe_reply,
)
from engine.store import DuplicateUpdateError, EmotionStore
from engine.types import (
    ChatTurn,
    ConversationResult,
    EmotionPrediction,
    IncomingMessage,
    IntentPrediction,
    MessageKind,
    Receipt,
    ReplySource,
    UserRef,
)

log = logging.getLogger(__name__)

EMPTY_REPLY = "하고 싶은 이야기를 편하게 적어 주세요. 천천히 기다릴게요."
TOO_LONG_REPLY = (
    "이야기가 길어서 제가 한 번에 다 읽지 못했어요. {limit}자 이내로 나눠서 보내 주시면 차근차근 들을게요."
)
RATE_LIMITED_REPLY = "메시지가 너무 빨리 이어지고 있어요. 잠깐 숨을 고르고, 조금 천천히 이야기해 주세요."
MODEL_FAILURE_REPLY = (
    "죄송해요, 지금 제 쪽에 문제가 생겨서 답을 드리지 못했어요. 잠시 뒤에 다시 말씀해 주시겠어요?"
)


class Inference(Protocol):
    """What the conversation needs from the models; the worker-backed engine provides it."""

    @property
    def has_intent(self) -> bool: ...

    @property
    def has_generator(self) -> bool: ...

    @property
    def bank(self) -> ReplyBank | None: ...

    @property
    def bank_threshold(self) -> float: ...

    @property
    def domain_threshold(self) -> float: ...

    async def classify(self, text: str) -> EmotionPrediction: ...

    async def match(self, text: str) -> list[SituationMatch]: ...

    async def intent(self, text: str) -> IntentPrediction: ...

    def intent_answer(self, category: str, rng: random.Random) -> str | None: ...

    async def generate(self, request: GenerationRequest) -> str: ...


@dataclass(frozen=True)
class ConversationPolicy:
    intent_threshold: float = 0.35
    max_message_chars: int = 1000
    context_turns: int = 0
    context_ttl: timedelta = timedelta(minutes=30)
    rate_per_minute: float = 20.0
    rate_burst: int = 8
    # The bank's own "not sure" lines (chosen on validation) unless set here: for a situation, and
    # for a domain when no situation is sure (then the domain's general replies answer).
    bank_threshold: float | None = None
    domain_threshold: float | None = None
    # With the emotion uncertain as well, a situation answers only from this sure: on the seven
    # judged sets, bank replies to uncertain readings below 0.7 were 23 good, 34 curt and 25 wrong
    # in 82 (0.7 and above: 93 good, 39 curt, 14 wrong in 146); the reflective reply (with the event
    # said back) is the honest one there.
    unsure_bank_threshold: float = 0.7
    # Even with a confident feeling, a situation answers only from this sure: on the four sets
    # written after the bank (dev6, dev7, dev8, test), bank replies at 0.4-0.5 were 12 good of 38,
    # against about half for the reflective replies there.
    confident_bank_threshold: float = 0.5
    # An emotion this confident must be among the matched situation's emotions.
    agree_confidence: float = 0.5
    # The emotion model must give the matched situation's emotions at least this much probability
    # together: "건강검진에서 재검 나왔어요" must not get the good-news replies, even when the
    # emotion reading itself is unsure.
    agree_mass: float = 0.4
    # A situation with required words (deaths, good test results, accidents) answers without them
    # only this sure.
    unprompted_threshold: float = 0.95
    # A situation the matcher is this sure of (right 79% of the time on held-out bank messages)
    # answers even when the emotion reading disagrees, with its general replies, unless the reading
    # leaves the situation's emotions almost nothing (< sure_mass): on the dev sets that separated
    # the emotion model misreading a new voice ("아무도 몰라요 ㅎㅎ" as joy: 0.17 left) from e5
    # missing the polarity ("면허 또 떨어졌어" matched to a new licence: 0.03).
    sure_threshold: float = 0.8
    sure_mass: float = 0.12
    # Short follow-ups keep the open situation for this many turns.
    follow_up_turns: int = 3
    follow_up_max_chars: int = 12
    # The console is the operator's own terminal (a file piped in is not a flood).
    unlimited_platforms: frozenset[str] = frozenset({"console"})
    # How long a crisis answer waits for the heightened state to reach the shared store. 0 in one
    # process (the card never waits on the database). The served engine waits up to a second: its
    # front-ends show their own card at once, and the person's next message may reach another
    # replica, which must see the state.
    crisis_settle_s: float = 0.0


class ConversationService:
    def __init__(
        self,
        inference: Inference,
        store: EmotionStore | None,
        policy: ConversationPolicy | None = None,
        tracker: CrisisTracker | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        screen: CrisisScreen | None = None,
    ) -> None:
        self.inference = inference
        self.store = store
        self.policy = policy or ConversationPolicy()
        # With a store the heightened state is shared: another replica, or this one after a restart,
        # still knows the person showed a crisis.
        self.tracker = tracker if tracker is not None else CrisisTracker(store=store)
        # Not `screen or ...`: a screen with no recent messages has len() 0 and would read as false.
        self.screen = screen if screen is not None else CrisisScreen()
        self.context = ContextMemory(self.policy.context_turns, self.policy.context_ttl)
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiter = RateLimiter(self.policy.rate_per_minute, self.policy.rate_burst)
        self.picker = ReplyPicker(self.rng)
        self.threads = SituationMemory(self.policy.follow_up_turns)
        self._background: set[asyncio.Task[None]] = set()
        self._marking: dict[asyncio.Task[None], str] = {}  # heightened-state writes in flight, by key

    async def handle(self, message: IncomingMessage) -> ConversationResult:
        now = message.received_at or self.clock()
        key = message.user.key
        receipt = Receipt(message.user, now, message.update_id)
        # Safety first, before the duplicate check, any length rule, model or database: nothing
        # that can fail or wait comes before the card. The (text-free) count is written in the
        # background; a redelivered crisis message gets the card again, the safe way to be wrong.
        crisis, card = screen_message(self.screen, message, now)
        if card is not None:
            self._mark_heightened(key, now)
            self._later(self._record_crisis(message.user.platform, crisis.category, now))
            if self.policy.crisis_settle_s > 0:
                await self.settle(key, self.policy.crisis_settle_s)
            return card
        text = clean_input(bounded(message.text))
        if message.kind is MessageKind.EDIT:  # read for safety; the adapter says edits aren't re-read
            return ConversationResult(reply="", source=ReplySource.QUIET, receipt=receipt)
        if await self._already_handled(message):
            return ConversationResult(reply="", source=ReplySource.DUPLICATE)
        guard = self._guard(text, message, now)
        if guard is not None:
            source = ReplySource.GUARD if guard else ReplySource.QUIET
            return ConversationResult(reply=guard, source=source, receipt=receipt)

        try:
            emotion = await self.inference.classify(text)
        except MaeumError:
            raise
        except Exception as exc:
            log.error("emotion model failed: %s", type(exc).__name__)
            return ConversationResult(reply=MODEL_FAILURE_REPLY, source=ReplySource.FALLBACK, receipt=receipt)

        reply, source, tag = await self._reply(text, key, now, emotion)
        if await self.tracker.is_heightened_anywhere(key, now):
            reply = f"{reply}\n\n{HEIGHTENED_REPLY_SUFFIX}"
        return ConversationResult(
            reply=reply,
            source=source,
            emotion=emotion.label,
            confidence=emotion.confidence,
            distribution=emotion.distribution,
            uncertain=emotion.uncertain,
            intent=tag if source is ReplySource.INTENT else None,
            situation=tag if source is ReplySource.BANK else None,
            receipt=Receipt(message.user, now, message.update_id, emotion),
        )

    def referral(self, user: UserRef) -> ConversationResult:
        """The card, asked for (a link under a crisis reply in a group): the person is treated as
        in the heightened state, as after any crisis message."""
        self._mark_heightened(user.key, self.clock())
        return ConversationResult(reply=CRISIS_CARD, source=ReplySource.CRISIS)

    async def acknowledge(self, receipt: Receipt) -> bool:
        """The reply went out: record the update as handled and, with consent, the emotion (in one
        transaction). Returns whether an emotion event was stored."""
        if self.store is None:
            return False
        if receipt.emotion is None:
            await self._mark_processed(receipt.user.platform, receipt.update_id, receipt.at)
            return False
        try:
            return await self.store.record_emotion(
                receipt.user, receipt.emotion, receipt.at, update_id=receipt.update_id
            )
        except DuplicateUpdateError:  # another delivery of the same update got there first
            return False

    def _guard(self, text: str, message: IncomingMessage, now: datetime) -> str | None:
        """A reply for input the models should not see ("" for nothing to send), or None."""
        if not text:  # nothing left once control characters and blanks are gone
            return EMPTY_REPLY
        if len(text) > self.policy.max_message_chars:
            return TOO_LONG_REPLY.format(limit=self.policy.max_message_chars)
        if message.user.platform in self.policy.unlimited_platforms:
            return None
        verdict = self.limiter.check(message.user.key, now.timestamp())
        if verdict is Verdict.DENY_FIRST:
            return RATE_LIMITED_REPLY
        if verdict is Verdict.DENY_AGAIN:
            return ""
        return None

    async def _already_handled(self, message: IncomingMessage) -> bool:
        if self.store is None or message.update_id is None:
            return False
        try:
            return await self.store.is_processed(message.user.platform, message.update_id)
        except Exception as exc:
            # Answering twice beats not answering: a store outage must not silence anyone.
            log.error("could not check an update id: %s", type(exc).__name__)
            return False

    def _later(self, work: Awaitable[None]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await work
            except Exception as exc:
                log.error("background store write failed: %s", type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._background.discard)
        return task

    def _mark_heightened(self, key: str, now: datetime) -> None:
        # Memory at once, the shared store in the background: the card never waits on the database.
        until = self.tracker.mark(key, now)
        if self.tracker.shared:
            task = self._later(self.tracker.persist(key, until))
            self._marking[task] = key
            task.add_done_callback(lambda done: self._marking.pop(done, None))

    async def settle(self, key: str, timeout_s: float | None = None) -> None:
        """Wait (up to ``timeout_s``, never cancelling it) for this person's heightened-state write
        still in flight: so that a /forget right after a crisis deletes the row instead of racing
        it, and so that the served engine's crisis answer comes once the state is shared. The
        write's own errors are logged by the background task, never raised here."""
        pending = [task for task, owner in self._marking.items() if owner == key]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    async def drain(self) -> None:
        """Wait for background writes (crisis counts) before shutting down."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _record_crisis(self, platform: str, category: str | None, now: datetime) -> None:
        if self.store is not None:
            await self.store.record_crisis(platform, category, now)

    async def _mark_processed(self, platform: str, update_id: str | None, now: datetime) -> None:
        if self.store is not None and update_id is not None:
            await self.store.mark_processed(platform, update_id, now)

    async def _reply(
        self, text: str, key: str, now: datetime, emotion: EmotionPrediction
    ) -> tuple[str, ReplySource, str | None]:
        """The reply, where it came from, and its situation or intent (for the result)."""
        bank = self.inference.bank
        if emotion.label in POSITIVE and tells_a_death(text):
            # A nurse's patient who died, read as joy at 0.81, got "정말 잘됐네요!": a death is never
            # answered as good news, so the reading counts as uncertain for the reply.
            emotion = replace(emotion, uncertain=True)
        referral = referral_options(text)
        if referral:  # "츄르 몇 개까지 줘도 돼요?": who can answer, not a reply about cats
            return self.picker.pick(key, referral), ReplySource.REFERRAL, None
        feeling = None if self._unsure_of(emotion) else emotion.label
        thread = None
        if bank is not None and len(text.replace(" ", "")) <= self.policy.follow_up_max_chars:
            open_id = self.threads.follow(key, now)
            thread = bank.get(open_id) if open_id else None
            if thread is not None and _is_acknowledgement(text):
                return self.picker.pick(key, FOLLOW_UP), ReplySource.REFLECTIVE, None
        if bank is not None:
            situation, topic = await self._matched_situation(bank, text, emotion)
            # A short message with a situation of its own ("요즘 사는 게 재미가 없어요" after a
            # wedding speech) starts there; one without ("그래서 더 힘들어") continues the thread.
            # One the bank would place elsewhere but for an uncertain feeling ("면접 보고 왔는데
            # 망친 것 같아" after a diet) is not the thread's either: the reflective reply answers.
            if (
                thread is not None
                and (situation is None or situation.id not in bank.situations)
                and topic in (None, thread.id)
            ):
                return self.picker.pick(key, thread.options(feeling)), ReplySource.BANK, thread.id
            if situation is not None:
                if situation.id in bank.situations:  # a domain's general entry opens no thread
                    self.threads.set(key, situation.id, now)
                agreed = feeling if feeling in situation.emotions else None
                # The replies below are written for these feelings (the rest of the message may
                # say more: a doubt about oneself, two feelings, relief; engine/conversation/shaping.py).
                by_emotion = agreed in situation.replies_by_emotion
                written_for = (agreed,) if by_emotion and agreed else tuple(situation.emotions)
                options = listening(situation.options(agreed), text)
                options = shaped_options(options, text, written_for, feeling)
                return self.picker.pick(key, options), ReplySource.BANK, situation.id
        if self.inference.has_intent:
            try:
                intent = await self.inference.intent(text)
                if intent.confidence >= self.policy.intent_threshold:
                    answer = self.inference.intent_answer(intent.category, self.rng)
                    if answer:
                        return answer, ReplySource.INTENT, intent.category
            except Exception as exc:
                log.error("intent model failed: %s", type(exc).__name__)
        if self.inference.has_generator:
            try:
                history = self.context.recent(key, now)
                reply = await self.inference.generate(GenerationRequest(text, history))
                if is_safe_reply(reply):
                    self.context.add(key, ChatTurn(text, reply), now)
                    return reply, ReplySource.GENERATED, None
                log.info("a generated reply failed the output check; answering reflectively")
            except Exception as exc:
                log.error("reply model failed: %s", type(exc).__name__)
        # Off the event loop, like the models: the restatement runs Kiwi (and loads it the first time).
        options = await asyncio.to_thread(
            reflective_options, emotion.label, self._unsure_of(emotion), text, emotion.distribution, restate
        )
        return self.picker.pick(key, options), ReplySource.REFLECTIVE, None

    def _unsure_of(self, emotion: EmotionPrediction) -> bool:
        return emotion.uncertain or emotion.confidence < self.policy.agree_confidence

    async def _matched_situation(
        self, bank: ReplyBank, text: str, emotion: EmotionPrediction
    ) -> tuple[Situation | None, str | None]:
        """The most likely situation above the threshold whose emotions agree with a confident
        emotion reading (None when there is none: then maeum is not sure), and the situation the
        message is about by the bank's own line alone, before the feeling is considered."""
        short = bank.short_match(text)
        if short is not None:  # "ㅎㅇ", "ㅠㅠㅠ", "...": written as one of the bank's own examples
            return short, short.id
        try:
            matches = await self.inference.match(text)
        except Exception as exc:
            log.error("reply bank matcher failed: %s", type(exc).__name__)
            return None, None
        threshold = self.policy.bank_threshold
        if threshold is None:
            threshold = self.inference.bank_threshold
        topic = matches[0].situation if matches and matches[0].probability >= threshold else None
        policy = self.policy
        floor = policy.unsure_bank_threshold if self._unsure_of(emotion) else policy.confident_bank_threshold
        threshold = max(threshold, floor)
        for match in matches:
            if match.probability < threshold:
                break
            situation = bank.get(match.situation)
            if situation is None or situation.refuses(text):
                continue
            if not situation.allows(text) and match.probability < self.policy.unprompted_threshold:
                continue
            if self._agrees(situation, emotion) or self._sure_of(match, situation, emotion):
                return situation, topic
        return self._matched_domain(bank, matches, emotion), topic

    def _matched_domain(
        self, bank: ReplyBank, matches: list[SituationMatch], emotion: EmotionPrediction
    ) -> Situation | None:
        """The general entry of the domain the top matches share, when they give it enough
        probability together ("번역 일감이 끊겼어요": some work situation, not sure which), and
        only with a confident feeling it has replies for: unsure of both what happened and how it
        feels, the reflective reply (which assumes neither) is the honest one."""
        if self._unsure_of(emotion):
            return None
        threshold = self.policy.domain_threshold
        if threshold is None:
            threshold = self.inference.domain_threshold
        mass: dict[str, float] = {}
        for match in matches:
            domain = domain_of(match.situation)
            mass[domain] = mass.get(domain, 0.0) + match.probability
        if not mass:
            return None
        domain = max(mass, key=mass.__getitem__)
        general = bank.general.get(domain)
        if general is None or mass[domain] < threshold or emotion.label not in general.replies_by_emotion:
            return None
        return general if self._agrees(general, emotion) else None

    def _sure_of(self, match: SituationMatch, situation: Situation, emotion: EmotionPrediction) -> bool:
        if match.probability < self.policy.sure_threshold:
            return False
        share = _share(situation, emotion)
        return share is None or share >= self.policy.sure_mass

    def _agrees(self, situation: Situation, emotion: EmotionPrediction) -> bool:
        """The emotion reading fits the situation: its emotions hold enough of the probability, and
        a confident reading is one of them."""
        share = _share(situation, emotion)
        if share is not None and share < self.policy.agree_mass:
            return False
        return self._unsure_of(emotion) or emotion.label in situation.emotions

    def forget(self, key: str) -> None:
        self.context.forget(key)
        self.tracker.clear(key)
        self.screen.forget(key)
        self.picker.forget(key)
        self.threads.forget(key)


def _share(situation: Situation, emotion: EmotionPrediction) -> float | None:
    """How much of the emotion reading the situation's emotions hold; None without a distribution."""
    if not emotion.distribution:
        return None
    return sum(emotion.distribution.get(e, 0.0) for e in situation.emotions)


# "응", "ㅇㅇ", "네", "맞아": an answer that carries no content of its own.
_ACK = re.compile(
    r"^(?:응+|웅+|ㅇ+|네+|넹+|예|어+|그래|그렇지|그니까|그러니까|맞아|맞아요|맞죠|ㅇㅋ|오키|알겠어)[.!~ㅎㅋ]*$"
)


def _is_acknowledgement(text: str) -> bool:
    return bool(_ACK.match(text.replace(" ", "")))
