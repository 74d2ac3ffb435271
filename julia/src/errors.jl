# The shared error vocabulary (same names as python/polyzarr/errors.py).
# Every error names the key or JSON path at fault, then the problem.

abstract type PolyZarrError <: Exception end

"Invalid or unsupported metadata (.zarray, .zgroup, .zattrs, .zmetadata, zarr.json)."
struct MetadataError <: PolyZarrError
    key::String
    msg::String
end

"A data type string (typestr or v3 data_type) that is malformed or unsupported."
struct DtypeError <: PolyZarrError
    key::String
    msg::String
end

"A codec that is unknown, misconfigured, or failed to encode/decode."
struct CodecError <: PolyZarrError
    key::String
    msg::String
end

"A chunk whose bytes do not decode to the expected size or content."
struct ChunkError <: PolyZarrError
    key::String
    msg::String
end

"The store failed: I/O error, S3 error status, permission denied."
struct StoreError <: PolyZarrError
    key::String
    msg::String
end

"A key or path that is not allowed (`..`, absolute, empty segments)."
struct PathError <: PolyZarrError
    key::String
    msg::String
end

errorcategory(e::PolyZarrError) = String(nameof(typeof(e)))

function Base.showerror(io::IO, e::PolyZarrError)
    print(io, errorcategory(e), ": ")
    isempty(e.key) || print(io, e.key, ": ")
    print(io, e.msg)
end
