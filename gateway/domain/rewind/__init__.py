"""A database that went back in time (restored to an earlier point), noticed
and the other stores brought in line with it (docs/backup.md)."""
