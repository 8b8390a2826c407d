"""SQL that picks versions out of their chains (store.versions explains the rules)."""

# Conditions on documents `d`: no READY version of its chain is newer / no version at all is.
LATEST_READY = (
    "NOT EXISTS (SELECT 1 FROM documents newer WHERE newer.tenant = d.tenant AND newer.chain = d.chain"
    " AND newer.version > d.version AND newer.state = 'READY')"
)
NEWEST_VERSION = (
    "NOT EXISTS (SELECT 1 FROM documents newer WHERE newer.tenant = documents.tenant"
    " AND newer.chain = documents.chain AND newer.version > documents.version)"
)
# How many versions the chain of a row of `documents` holds (a column for reads).
VERSION_COUNT = (
    "(SELECT count(*) FROM documents v WHERE v.tenant = documents.tenant AND v.chain = documents.chain)::int"
)
