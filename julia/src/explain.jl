# explain: what PolyZarr.jl makes of a dtype (python/polyzarr/explain.py), and Python's str()/repr() of JSON
# values, for the human-readable lines both CLIs print alike.

"""
    explain_dtype(text) -> Dict

What PolyZarr.jl makes of a dtype: a v2 typestring (`<M8[10s]`), a JSON structured spec, or a v3
`data_type` (`float64`, `r16`, `{"name": "numpy.datetime64", ...}`): its typestring, Julia type,
item size, byte order and kind (the Python `polyzarr explain` shows the same from its table).
"""
function explain_dtype(text::AbstractString)
    t = strip(text)
    spec = (startswith(t, "[") || startswith(t, "{")) ? parse_json(t; key="dtype") : String(t)
    v3 = spec isa AbstractDict || (spec isa String && !isempty(spec) && !(spec[1] in ('<', '>', '|', '=')))
    d = v3 ? parse_data_type(spec) : parse_dtype(spec; key=spec isa String ? spec : "dtype")
    out = Dict{String,Any}("typestr" => d.typestr, "julia" => _typename(d.T), "itemsize" => d.itemsize,
                           "byteorder" => d.byteorder == '<' ? "little" : d.byteorder == '>' ? "big" : "not applicable",
                           "kind" => string(d.kind))
    v3 && (out["v3_data_type"] = spec)
    return out
end

"A shape as Python prints a tuple: `(3, 2)`, `(5,)`, `()`."
python_shape(shape) = length(shape) == 1 ? string("(", python_repr(shape[1]), ",)") :
                                            string("(", join(map(python_repr, shape), ", "), ")")

# Python's str() / repr() of JSON values, for the human-readable lines the Python CLI prints
python_str(x::AbstractString) = String(x)
python_str(x) = python_repr(x)
python_repr(x::AbstractString) = string("'", replace(replace(x, "\\" => "\\\\"), "'" => "\\'"), "'")
python_repr(x::Bool) = x ? "True" : "False"
python_repr(::Nothing) = "None"
python_repr(x::Integer) = string(x)
python_repr(x::AbstractFloat) = isnan(x) ? "nan" : isinf(x) ? (x > 0 ? "inf" : "-inf") : python_float_repr(Float64(x))
python_repr(x::Union{AbstractVector,Tuple}) = string("[", join(map(python_repr, x), ", "), "]")
python_repr(x::AbstractDict) =
    string("{", join([string(python_repr(string(k)), ": " *
        "", python_repr(v)) for (k, v) in sort!(collect(x), by=first)], ", "), "}")
python_repr(x) = string(x)

"The text form of `explain_dtype`'s result, one `key value` line per field."
function print_explain(io::IO, d::AbstractDict)
    for k in ("typestr", "v3_data_type", "julia", "itemsize", "byteorder", "kind")
        haskey(d, k) && println(io, rpad(k, 13), d[k] isa AbstractString ? d[k] : json_string(d[k]; indent=nothing))
    end
end
