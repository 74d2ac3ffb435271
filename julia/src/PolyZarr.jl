"""
    PolyZarr

A native Julia implementation of Zarr v2 (stdlib only): dtypes, metadata, the codec pipeline,
stores (directory, memory, zip, S3), arrays, groups, `.npy` I/O, and the CLI/worker entry points.
"""
module PolyZarr

using Base64
using Dates

include("errors.jl")
include("json.jl")
include("dtypes.jl")
include("metadata.jl")
include("layout.jl")
include("compressors.jl")
include("codecs.jl")
include("stores.jl")
include("http.jl")
include("s3.jl")
include("arrays.jl")
include("groups.jl")
include("npy.jl")
include("cli.jl")
include("worker.jl")

# errors
export PolyZarrError, MetadataError, DtypeError, CodecError, ChunkError, StoreError, PathError, errorcategory
# dtypes
export Datetime64, Timedelta64, FixedBytesString, FixedUTF32String, RawBytes, isnat, ZDtype, ZField,
       parse_dtype, julia_type, typestr, itemsize
# metadata / layout
export ArrayMetadata, parse_zarray, zarray_dict, decode_fill_value, encode_fill_value,
       julia_size, zarr_shape, chunk_key
# stores
export AbstractStore, DirectoryStore, MemoryStore, ZipStore, readkey, readrange, writekey!, deletekey!,
       listkeys, checkkey, open_store
# arrays and groups
export ZArray, ZGroup, open_array, create_array, write_array, write_array!, read_array, read_numpy_order,
       zshape, zorder, attributes, dimnames, create_group, open_group, read_attributes, write_attributes!,
       list_nodes, consolidate_metadata, export_tree, import_npy, inspect_tree, julia_view
# npy
export read_npy, write_npy

end # module
