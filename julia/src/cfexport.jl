# `polyzarr export --cf`: the variables of an xarray dataset (a Zarr group), CF-decoded by
# datasets.jl, as .npy files — the twin of Python's cfexport.py (which decodes through xarray).
# Same files, same dtypes (docs/CONTRACT.md "export --cf"): every variable → OUTDIR/<name>.npy in
# numpy axis order; masked floats NaN; masked integers promoted as xarray does (≤ 2-byte → <f4,
# else <f8), masked bools <f8 (1, 0, NaN); standard-calendar times datetime64[ns] (masked: NaT);
# durations timedelta64[ns]; times in other calendars, or beyond datetime64[ns]'s range, `<U` ISO
# 8601 strings (`2000-02-30T12:00:00`, masked "NaT"); strings `<U{n}` (masked ""), bytes `|S{n}`.

const CF_NAT = typemin(Int64)          # numpy's NaT
const CF_NAT_TEXT = "NaT"

const _CF_TYPESTR = Dict{Any,String}(
    Bool => "|b1", Int8 => "|i1", UInt8 => "|u1", Int16 => "<i2", UInt16 => "<u2", Int32 => "<i4", UInt32 => "<u4",
    Int64 => "<i8", UInt64 => "<u8", Float16 => "<f2", Float32 => "<f4", Float64 => "<f8")

const _EPOCH_DAYS = Dates.value(Dates.Date(1970, 1, 1))

# nanoseconds since 1970 (Int128: callers check the datetime64[ns] range first)
_cf_ns(x::Dates.DateTime) = Int128(Dates.value(x) - Dates.value(Dates.DateTime(1970, 1, 1))) * 1_000_000
_cf_ns(x::CFDateTime) =
    Int128(Dates.value(Dates.Date(x.year, x.month, x.day)) - _EPOCH_DAYS) * 86_400_000_000_000 +
    Int128(x.hour * 3600 + x.minute * 60 + x.second) * 1_000_000_000 + x.nanosecond
_cf_in_ns_range(x) = typemin(Int64) < _cf_ns(x) <= typemax(Int64)
_cf_gregorian(::Type{CFDateTime{C}}) where {C} = C === :proleptic_gregorian
_cf_gregorian(::Type) = false

_cf_maxlen(f, data) = max(1, reduce(max, (f(x) for x in data if x !== missing); init=0))

"""
    cf_npy_values(data::AbstractArray) -> (values, typestr)

Decoded values (datasets.jl's element types, `missing` included) in the contract's .npy form.
"""
function cf_npy_values(data::AbstractArray)
    T = Base.nonmissingtype(eltype(data))
    masked = Missing <: eltype(data)
    if T <: AbstractFloat
        F = T
        return (map(x -> x === missing ? F(NaN) : F(x), data), _CF_TYPESTR[F])
    elseif T <: Bool && masked                          # xarray: True/False/NaN objects
        return (map(x -> x === missing ? NaN : Float64(x), data), "<f8")
    elseif (T <: Integer && !(T <: Bool)) && masked
        F = sizeof(T) <= 2 ? Float32 : Float64          # xarray: numpy's promotion for a masked integer
        return (map(x -> x === missing ? F(NaN) : F(x), data), _CF_TYPESTR[F])
    elseif haskey(_CF_TYPESTR, T)
        any(ismissing, data) && throw(DtypeError("--cf", string("masked ", T, " values have no .npy form")))
        return (map(T, data), _CF_TYPESTR[T])
    elseif (T === Dates.DateTime || _cf_gregorian(T)) && all(x -> x === missing || _cf_in_ns_range(x), data)
        return (map(x -> Datetime64{:ns,1}(x === missing ? CF_NAT : Int64(_cf_ns(x))), data), "<M8[ns]")
    elseif T === Dates.DateTime || T <: CFDateTime      # xarray: cftime objects (other calendars, or out of range)
        data = map(x -> x isa Dates.DateTime ? CFDateTime{:proleptic_gregorian}(x) : x, data)
        n = _cf_maxlen(x -> length(string(x)), data)
        n = max(n, length(CF_NAT_TEXT))
        return (map(x -> FixedUTF32String{n}(x === missing ? CF_NAT_TEXT : string(x)), data), string("<U", n))
    elseif T <: Dates.Period
        return (map(x -> Timedelta64{:ns,1}(x === missing ? CF_NAT : Int64(Dates.value(Dates.Nanosecond(x)))), data),
                "<m8[ns]")
    elseif T <: AbstractString
        n = _cf_maxlen(length, data)
        return (map(x -> FixedUTF32String{n}(x === missing ? "" : String(x)), data), string("<U", n))
    elseif T <: AbstractVector{UInt8}
        n = _cf_maxlen(length, data)
        return (map(x -> FixedBytesString{n}(x === missing ? UInt8[] : x), data), string("|S", n))
    end
    throw(DtypeError("--cf", string("decoded values of type ", T, " have no .npy form")))
end

"""
    export_cf(src, outdir; endpoint_url=nothing, log=stdout) -> (exported=..., failed=...)

Every variable of the dataset at `src` (`open_dataset`), decoded, to `outdir/<name>.npy`.
"""
function export_cf(src::AbstractString, outdir::AbstractString; endpoint_url=nothing, log::IO=stdout)
    exported = Dict{String,Any}[]
    failed = Dict{String,Any}[]
    ds = open_dataset(src; endpoint_url=endpoint_url)
    for name in sort(collect(keys(ds)))
        file = joinpath(outdir, name * ".npy")
        try
            v = ds[name]
            data = ndims(v) == 0 ? v[] : v[ntuple(_ -> Colon(), ndims(v))...]
            data isa AbstractArray || (data = fill(data))
            vals, typestr = cf_npy_values(data)
            mkpath(dirname(file))
            # numpy axis order: the variable is laid out like its stored array
            C = relayout(vals, zorder(raw(v)), 'C')
            write_npy(file, C, typestr)
            shape = zarr_shape(size(C), 'C')
            push!(exported, Dict{String,Any}("path" => name, "shape" => shape, "dtype" => typestr, "file" => file))
            println(log, "exported ", name, " ", _pyshape(shape), " ", typestr)
        catch e
            e isa InterruptException && rethrow()     # one variable's failure never stops the export
            push!(failed, Dict{String,Any}("path" => name, "category" => _errcat(e), "message" => _errtext(e)))
            println(log, "FAILED ", name, ": ", _errcat(e), ": ", _errtext(e))
        end
    end
    return (exported=exported, failed=failed)
end
