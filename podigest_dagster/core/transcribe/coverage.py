"""Whether a publisher transcript covers its episode, judged against the duration the feed declares.

A transcript that covers clearly less than the episode (a teaser, the first part, a show-notes page) or
clearly more (another, longer episode's transcript; cues running past the end) is not used: the episode's
audio is downloaded and transcribed instead. The bounds leave room for what real feeds do: on 181 episodes of
13 shows the last cue ends between 0.74 and 1.36 of the declared duration (short clips: within 45 s), a show
with ad-free transcripts of episodes with inserted ads at 0.83, and speech runs 70 to 230 words a minute.
"""

from __future__ import annotations

from podigest_dagster.core.transcribe.segments import Segment

SHORT_SHARE = 0.7  # the last cue ends before 70% of the declared duration, less a minute: clearly short
LONG_SHARE = 1.15  # ... or after 115% of it, plus a minute: clearly past the end
SLACK_S = 60.0
MIN_WORDS_PER_MINUTE = 30.0  # an untimed text with fewer words than this per declared minute covers too little
MAX_WORDS_PER_MINUTE = 400.0  # ... and one with more is a longer episode's (nobody speaks twice as fast)


def clock(seconds: float) -> str:
    """12:05 or 1:02:05."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def coverage_problem(segments: list[Segment], declared_duration_s: float | None) -> str | None:
    """Why the transcript does not fit an episode of the declared duration, or None when it does (or when
    the feed declares no duration: nothing to judge by)."""
    if not declared_duration_s or declared_duration_s <= 0:
        return None
    declared = clock(declared_duration_s)
    last = max((s.end_s for s in segments), default=0.0)
    if last > 0:
        if last < SHORT_SHARE * declared_duration_s - SLACK_S:
            share = last / declared_duration_s
            return f"it covers {clock(last)} of the declared {declared} ({share:.0%}): clearly less than the episode"
        if last > LONG_SHARE * declared_duration_s + SLACK_S:
            return f"its cues run to {clock(last)}, past the end of the declared {declared}: another episode's?"
        return None
    words = sum(len(s.text.split()) for s in segments)
    rate = words / (declared_duration_s / 60)
    if rate < MIN_WORDS_PER_MINUTE:
        return (
            f"it has {words} words for the declared {declared} ({rate:.0f} a minute, speech has 100-200): "
            "clearly less than the episode"
        )
    if rate > MAX_WORDS_PER_MINUTE:
        return (
            f"it has {words} words for the declared {declared} ({rate:.0f} a minute, speech has 100-200): "
            "another, longer episode's?"
        )
    return None
