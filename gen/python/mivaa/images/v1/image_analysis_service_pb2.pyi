from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Analysis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYSIS_UNSPECIFIED: _ClassVar[Analysis]
    ANALYSIS_PROPERTIES: _ClassVar[Analysis]
    ANALYSIS_COLORS: _ClassVar[Analysis]
    ANALYSIS_TEXT: _ClassVar[Analysis]
    ANALYSIS_TAGS: _ClassVar[Analysis]
    ANALYSIS_SIMILAR: _ClassVar[Analysis]
ANALYSIS_UNSPECIFIED: Analysis
ANALYSIS_PROPERTIES: Analysis
ANALYSIS_COLORS: Analysis
ANALYSIS_TEXT: Analysis
ANALYSIS_TAGS: Analysis
ANALYSIS_SIMILAR: Analysis

class AnalysisOptions(_message.Message):
    __slots__ = ("analyses", "labels", "max_tags", "max_colors", "similarity_threshold", "similar_limit")
    ANALYSES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MAX_TAGS_FIELD_NUMBER: _ClassVar[int]
    MAX_COLORS_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SIMILAR_LIMIT_FIELD_NUMBER: _ClassVar[int]
    analyses: _containers.RepeatedScalarFieldContainer[Analysis]
    labels: _containers.RepeatedScalarFieldContainer[str]
    max_tags: int
    max_colors: int
    similarity_threshold: float
    similar_limit: int
    def __init__(self, analyses: _Optional[_Iterable[_Union[Analysis, str]]] = ..., labels: _Optional[_Iterable[str]] = ..., max_tags: _Optional[int] = ..., max_colors: _Optional[int] = ..., similarity_threshold: _Optional[float] = ..., similar_limit: _Optional[int] = ...) -> None: ...

class AnalyzeImageRequest(_message.Message):
    __slots__ = ("image", "content", "options")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    image: str
    content: bytes
    options: AnalysisOptions
    def __init__(self, image: _Optional[str] = ..., content: _Optional[bytes] = ..., options: _Optional[_Union[AnalysisOptions, _Mapping]] = ...) -> None: ...

class AnalyzeImageResponse(_message.Message):
    __slots__ = ("analysis",)
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    analysis: ImageAnalysis
    def __init__(self, analysis: _Optional[_Union[ImageAnalysis, _Mapping]] = ...) -> None: ...

class PlacedResolution(_message.Message):
    __slots__ = ("page", "width_points", "height_points", "dpi_x", "dpi_y")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_POINTS_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_POINTS_FIELD_NUMBER: _ClassVar[int]
    DPI_X_FIELD_NUMBER: _ClassVar[int]
    DPI_Y_FIELD_NUMBER: _ClassVar[int]
    page: int
    width_points: float
    height_points: float
    dpi_x: float
    dpi_y: float
    def __init__(self, page: _Optional[int] = ..., width_points: _Optional[float] = ..., height_points: _Optional[float] = ..., dpi_x: _Optional[float] = ..., dpi_y: _Optional[float] = ...) -> None: ...

class ImageProperties(_message.Message):
    __slots__ = ("format", "mime_type", "width", "height", "size_bytes", "color_space", "bits_per_channel", "has_alpha", "file_dpi_x", "file_dpi_y", "placements")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    COLOR_SPACE_FIELD_NUMBER: _ClassVar[int]
    BITS_PER_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HAS_ALPHA_FIELD_NUMBER: _ClassVar[int]
    FILE_DPI_X_FIELD_NUMBER: _ClassVar[int]
    FILE_DPI_Y_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    format: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    color_space: str
    bits_per_channel: int
    has_alpha: bool
    file_dpi_x: float
    file_dpi_y: float
    placements: _containers.RepeatedCompositeFieldContainer[PlacedResolution]
    def __init__(self, format: _Optional[str] = ..., mime_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., size_bytes: _Optional[int] = ..., color_space: _Optional[str] = ..., bits_per_channel: _Optional[int] = ..., has_alpha: _Optional[bool] = ..., file_dpi_x: _Optional[float] = ..., file_dpi_y: _Optional[float] = ..., placements: _Optional[_Iterable[_Union[PlacedResolution, _Mapping]]] = ...) -> None: ...

class DominantColor(_message.Message):
    __slots__ = ("hex", "red", "green", "blue", "fraction")
    HEX_FIELD_NUMBER: _ClassVar[int]
    RED_FIELD_NUMBER: _ClassVar[int]
    GREEN_FIELD_NUMBER: _ClassVar[int]
    BLUE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    hex: str
    red: int
    green: int
    blue: int
    fraction: float
    def __init__(self, hex: _Optional[str] = ..., red: _Optional[int] = ..., green: _Optional[int] = ..., blue: _Optional[int] = ..., fraction: _Optional[float] = ...) -> None: ...

class ImageText(_message.Message):
    __slots__ = ("text", "confidence", "engine")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    text: str
    confidence: float
    engine: str
    def __init__(self, text: _Optional[str] = ..., confidence: _Optional[float] = ..., engine: _Optional[str] = ...) -> None: ...

class Tag(_message.Message):
    __slots__ = ("label", "score", "similarity")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    similarity: float
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ..., similarity: _Optional[float] = ...) -> None: ...

class SimilarImage(_message.Message):
    __slots__ = ("image", "document", "document_title", "score", "pages")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    image: str
    document: str
    document_title: str
    score: float
    pages: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, image: _Optional[str] = ..., document: _Optional[str] = ..., document_title: _Optional[str] = ..., score: _Optional[float] = ..., pages: _Optional[_Iterable[int]] = ...) -> None: ...

class AnalysisError(_message.Message):
    __slots__ = ("analysis", "reason", "message")
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    analysis: Analysis
    reason: str
    message: str
    def __init__(self, analysis: _Optional[_Union[Analysis, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ImageAnalysis(_message.Message):
    __slots__ = ("image", "properties", "colors", "text", "tags", "similar", "image_model", "image_model_source", "errors")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    COLORS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SIMILAR_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MODEL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    image: str
    properties: ImageProperties
    colors: _containers.RepeatedCompositeFieldContainer[DominantColor]
    text: ImageText
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    similar: _containers.RepeatedCompositeFieldContainer[SimilarImage]
    image_model: str
    image_model_source: str
    errors: _containers.RepeatedCompositeFieldContainer[AnalysisError]
    def __init__(self, image: _Optional[str] = ..., properties: _Optional[_Union[ImageProperties, _Mapping]] = ..., colors: _Optional[_Iterable[_Union[DominantColor, _Mapping]]] = ..., text: _Optional[_Union[ImageText, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., similar: _Optional[_Iterable[_Union[SimilarImage, _Mapping]]] = ..., image_model: _Optional[str] = ..., image_model_source: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[AnalysisError, _Mapping]]] = ...) -> None: ...

class BatchAnalyzeImagesRequest(_message.Message):
    __slots__ = ("images", "options")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedScalarFieldContainer[str]
    options: AnalysisOptions
    def __init__(self, images: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[AnalysisOptions, _Mapping]] = ...) -> None: ...

class BatchAnalyzeImagesResponse(_message.Message):
    __slots__ = ("image", "analysis", "error")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    image: str
    analysis: ImageAnalysis
    error: AnalysisError
    def __init__(self, image: _Optional[str] = ..., analysis: _Optional[_Union[ImageAnalysis, _Mapping]] = ..., error: _Optional[_Union[AnalysisError, _Mapping]] = ...) -> None: ...
