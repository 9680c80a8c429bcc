select
    episode_id,
    seq,
    start_s,
    end_s,
    end_s - start_s as duration_s,
    text,
    case when trim(text) = '' then 0 else len(regexp_split_to_array(trim(text), '\s+')) end as word_count,
    source,
    avg_logprob,
    no_speech_prob
from {{ source('podigest', 'transcript_segments') }}
