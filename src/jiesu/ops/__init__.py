"""Operations: backup and restore, and the retention job that anonymises old personal data."""
