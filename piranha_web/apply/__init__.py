"""Apply: diff the draft against the running lvs.cf, write it atomically,
copy it to the backup director, reload both and record the revision."""
