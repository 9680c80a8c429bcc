"""The marts stage: what a dbt build read and produced, so an unchanged day is not rebuilt."""
