from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OcrOptions(_message.Message):
    __slots__ = ("engine", "languages", "correct_orientation")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    CORRECT_ORIENTATION_FIELD_NUMBER: _ClassVar[int]
    engine: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    correct_orientation: bool
    def __init__(self, engine: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., correct_orientation: _Optional[bool] = ...) -> None: ...

class PageImage(_message.Message):
    __slots__ = ("page_id", "image", "dpi")
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DPI_FIELD_NUMBER: _ClassVar[int]
    page_id: str
    image: bytes
    dpi: int
    def __init__(self, page_id: _Optional[str] = ..., image: _Optional[bytes] = ..., dpi: _Optional[int] = ...) -> None: ...

class BoundingBox(_message.Message):
    __slots__ = ("x0", "y0", "x1", "y1")
    X0_FIELD_NUMBER: _ClassVar[int]
    Y0_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    x0: float
    y0: float
    x1: float
    y1: float
    def __init__(self, x0: _Optional[float] = ..., y0: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("text", "box", "confidence")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    text: str
    box: BoundingBox
    confidence: float
    def __init__(self, text: _Optional[str] = ..., box: _Optional[_Union[BoundingBox, _Mapping]] = ..., confidence: _Optional[float] = ...) -> None: ...

class Line(_message.Message):
    __slots__ = ("text", "box", "confidence", "words")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    text: str
    box: BoundingBox
    confidence: float
    words: _containers.RepeatedCompositeFieldContainer[Word]
    def __init__(self, text: _Optional[str] = ..., box: _Optional[_Union[BoundingBox, _Mapping]] = ..., confidence: _Optional[float] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ...) -> None: ...

class PageResult(_message.Message):
    __slots__ = ("page_id", "text", "lines", "confidence", "rotation_degrees", "skew_degrees", "engine", "seconds", "width", "height", "detected_script", "script_confidence", "script_detection_method", "languages", "flag_reason")
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ROTATION_DEGREES_FIELD_NUMBER: _ClassVar[int]
    SKEW_DEGREES_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DETECTED_SCRIPT_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_DETECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    FLAG_REASON_FIELD_NUMBER: _ClassVar[int]
    page_id: str
    text: str
    lines: _containers.RepeatedCompositeFieldContainer[Line]
    confidence: float
    rotation_degrees: int
    skew_degrees: float
    engine: str
    seconds: float
    width: int
    height: int
    detected_script: str
    script_confidence: float
    script_detection_method: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    flag_reason: str
    def __init__(self, page_id: _Optional[str] = ..., text: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[Line, _Mapping]]] = ..., confidence: _Optional[float] = ..., rotation_degrees: _Optional[int] = ..., skew_degrees: _Optional[float] = ..., engine: _Optional[str] = ..., seconds: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., detected_script: _Optional[str] = ..., script_confidence: _Optional[float] = ..., script_detection_method: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., flag_reason: _Optional[str] = ...) -> None: ...

class RecognizeTextRequest(_message.Message):
    __slots__ = ("page", "options")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    page: PageImage
    options: OcrOptions
    def __init__(self, page: _Optional[_Union[PageImage, _Mapping]] = ..., options: _Optional[_Union[OcrOptions, _Mapping]] = ...) -> None: ...

class RecognizeTextResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: PageResult
    def __init__(self, result: _Optional[_Union[PageResult, _Mapping]] = ...) -> None: ...

class StreamRecognizeTextRequest(_message.Message):
    __slots__ = ("options", "page")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    options: OcrOptions
    page: PageImage
    def __init__(self, options: _Optional[_Union[OcrOptions, _Mapping]] = ..., page: _Optional[_Union[PageImage, _Mapping]] = ...) -> None: ...

class StreamRecognizeTextResponse(_message.Message):
    __slots__ = ("result", "error")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    result: PageResult
    error: PageError
    def __init__(self, result: _Optional[_Union[PageResult, _Mapping]] = ..., error: _Optional[_Union[PageError, _Mapping]] = ...) -> None: ...

class PageError(_message.Message):
    __slots__ = ("page_id", "reason", "message", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    page_id: str
    reason: str
    message: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, page_id: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListEnginesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Engine(_message.Message):
    __slots__ = ("name", "languages", "device", "is_default")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    name: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    device: str
    is_default: bool
    def __init__(self, name: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., device: _Optional[str] = ..., is_default: _Optional[bool] = ...) -> None: ...

class ListEnginesResponse(_message.Message):
    __slots__ = ("engines",)
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedCompositeFieldContainer[Engine]
    def __init__(self, engines: _Optional[_Iterable[_Union[Engine, _Mapping]]] = ...) -> None: ...
