from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OcrMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OCR_MODE_UNSPECIFIED: _ClassVar[OcrMode]
    OCR_MODE_AUTO: _ClassVar[OcrMode]
    OCR_MODE_FORCE: _ClassVar[OcrMode]
    OCR_MODE_OFF: _ClassVar[OcrMode]

class ImageExtraction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_EXTRACTION_UNSPECIFIED: _ClassVar[ImageExtraction]
    IMAGE_EXTRACTION_ON: _ClassVar[ImageExtraction]
    IMAGE_EXTRACTION_OFF: _ClassVar[ImageExtraction]

class TableExtraction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TABLE_EXTRACTION_UNSPECIFIED: _ClassVar[TableExtraction]
    TABLE_EXTRACTION_ON: _ClassVar[TableExtraction]
    TABLE_EXTRACTION_OFF: _ClassVar[TableExtraction]
OCR_MODE_UNSPECIFIED: OcrMode
OCR_MODE_AUTO: OcrMode
OCR_MODE_FORCE: OcrMode
OCR_MODE_OFF: OcrMode
IMAGE_EXTRACTION_UNSPECIFIED: ImageExtraction
IMAGE_EXTRACTION_ON: ImageExtraction
IMAGE_EXTRACTION_OFF: ImageExtraction
TABLE_EXTRACTION_UNSPECIFIED: TableExtraction
TABLE_EXTRACTION_ON: TableExtraction
TABLE_EXTRACTION_OFF: TableExtraction

class ProcessingOptions(_message.Message):
    __slots__ = ("ocr_mode", "ocr_languages", "images", "tables", "chunk_tokens")
    OCR_MODE_FIELD_NUMBER: _ClassVar[int]
    OCR_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ocr_mode: OcrMode
    ocr_languages: _containers.RepeatedScalarFieldContainer[str]
    images: ImageExtraction
    tables: TableExtraction
    chunk_tokens: int
    def __init__(self, ocr_mode: _Optional[_Union[OcrMode, str]] = ..., ocr_languages: _Optional[_Iterable[str]] = ..., images: _Optional[_Union[ImageExtraction, str]] = ..., tables: _Optional[_Union[TableExtraction, str]] = ..., chunk_tokens: _Optional[int] = ...) -> None: ...
