"""What the search service does, between the servicer (protos) and the store (SQL).

Each use case takes the caller's tenant as a required keyword, checks what a request may
ask for (mivaa_search.limits), and owns pagination (mivaa_platform.pagination). No grpc,
no protos: the servicer translates.
"""

from mivaa_search.usecases.documents import MAX_FULL_VIEW_BYTES, DocumentCatalog
from mivaa_search.usecases.maintenance import IndexUpkeep, MaintenanceReport
from mivaa_search.usecases.ports import ImageEmbedder, Originals, TextEmbedder
from mivaa_search.usecases.search import Search

__all__ = [
    "MAX_FULL_VIEW_BYTES",
    "DocumentCatalog",
    "ImageEmbedder",
    "IndexUpkeep",
    "MaintenanceReport",
    "Originals",
    "Search",
    "TextEmbedder",
]
