{#- Episode grain: each episode with its feed's display name, audio download and transcript outcome. -#}
with episodes as (
    select * from {{ source('podigest', 'episodes') }}
),

feeds as (
    select * from {{ ref('stg_feeds') }}
),

audio as (
    select * from {{ source('podigest', 'episode_audio') }}
),

transcripts as (
    select * from {{ source('podigest', 'transcripts') }}
)

select
    e.episode_id,
    e.feed_url,
    coalesce(nullif(trim(e.podcast), ''), f.podcast, e.feed_url) as podcast,
    e.title,
    e.published_at,
    e.partition_date,
    e.date_status,
    e.duration_s as declared_duration_s,
    e.enclosure_url,
    e.link,
    e.first_seen_at,
    a.status as audio_status,
    a.bytes as audio_bytes,
    t.status as transcript_status,
    t.source as transcript_source,
    t.language as transcript_language,
    case when t.status = 'ok' then t.audio_duration_s end as transcribed_duration_s,
    t.transcribe_s,
    t.segment_count,
    coalesce(t.status = 'ok', false) as is_transcribed
from episodes as e
left join feeds as f on f.feed_url = e.feed_url
left join audio as a on a.episode_id = e.episode_id
left join transcripts as t on t.episode_id = e.episode_id
