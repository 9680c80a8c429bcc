-- Who spoke each segment, when the publisher's transcript names its speakers (JSON `speaker`, WebVTT
-- `<v Name>`, a `Name:` prefix); NULL when unknown or only a generic label such as "Speaker 1".
ALTER TABLE transcript_segments ADD COLUMN speaker VARCHAR;
