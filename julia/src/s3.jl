# S3 store: path-style requests (`endpoint/bucket/key`) signed with AWS Signature Version 4,
# over the small HTTP client in http.jl.  Keys are relative to the store's prefix.

using SHA
using Dates

struct S3Store <: AbstractStore
    bucket::String
    prefix::String          # no leading/trailing "/"; "" for the bucket root
    endpoint::String        # e.g. "http://127.0.0.1:5000", no trailing "/"
    access_key::String
    secret_key::String
    session_token::String
    region::String
    timeout::Float64        # seconds, for connecting and for each wait for data
    retries::Int            # extra attempts after a 5xx or transport failure
    budget::Float64         # no retry starts later than this many seconds after the first attempt
    listed::Set{String}     # keys seen in a listing (and not deleted here since): a 404 on one is an error
end

S3Store(bucket, prefix, endpoint, access_key, secret_key, session_token, region, timeout, retries) =
    S3Store(bucket, prefix, endpoint, access_key, secret_key, session_token, region, Float64(timeout), Int(retries),
            http_settings()[3], Set{String}())
S3Store(bucket, prefix, endpoint, access_key, secret_key, session_token, region) =
    S3Store(bucket, prefix, endpoint, access_key, secret_key, session_token, region, http_settings()[1:2]...)

# chunk reads go out on this many tasks at once (the socket client yields while it waits; curl, used
# for https, blocks the thread, so there one at a time)
io_concurrency(s::S3Store) = startswith(s.endpoint, "http://") ? 16 : 1

default_s3_endpoint() =
    get(ENV, "AWS_ENDPOINT_URL_S3", get(ENV, "AWS_ENDPOINT_URL", "https://s3.amazonaws.com"))
default_s3_region() = get(ENV, "AWS_DEFAULT_REGION", get(ENV, "AWS_REGION", "us-east-1"))
"`--anon` (the CLIs set `POLYZARR_ANON=1`) or the variable itself: unsigned S3 requests."
anonymous_requested() = lowercase(get(ENV, "POLYZARR_ANON", "")) in ("1", "true", "yes")

"""
    S3Store(url; endpoint_url=nothing, timeout=15, retries=4)

Open `s3://bucket/prefix`.  The endpoint comes from `endpoint_url`, else `AWS_ENDPOINT_URL_S3`,
`AWS_ENDPOINT_URL`, else AWS; credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`; region from `AWS_DEFAULT_REGION` / `AWS_REGION` (default us-east-1).
`timeout` and `retries` default to `http_settings()` (`POLYZARR_HTTP_TIMEOUT`, `POLYZARR_HTTP_RETRIES`).
"""
function S3Store(url::AbstractString; endpoint_url=nothing, timeout=nothing, retries=nothing)
    m = match(r"^s3://([^/]+)/*(.*)$", url)
    m === nothing && throw(PathError(String(url), "not an S3 URL (expected s3://bucket/prefix)"))
    bucket = String(m.captures[1])
    prefix = String(strip(m.captures[2], '/'))
    endpoint = endpoint_url === nothing || isempty(endpoint_url) ? default_s3_endpoint() : String(endpoint_url)
    endpoint = String(rstrip(endpoint, '/'))
    occursin(r"^https?://", endpoint) ||
        throw(StoreError(String(url), string("S3 endpoint must be an http:// or https:// URL, got ", repr(endpoint))))
    isempty(prefix) || checkkey(prefix)
    # --anon (POLYZARR_ANON=1): unsigned requests even when credentials are set
    anon = anonymous_requested()
    return S3Store(bucket, prefix, endpoint,
                   anon ? "" : get(ENV, "AWS_ACCESS_KEY_ID", ""), anon ? "" : get(ENV, "AWS_SECRET_ACCESS_KEY", ""),
                   anon ? "" : get(ENV, "AWS_SESSION_TOKEN", ""), default_s3_region(),
                   something(timeout, http_settings()[1]), something(retries, http_settings()[2]))
end

Base.show(io::IO, s::S3Store) =
    print(io, "S3Store(\"s3://", s.bucket, isempty(s.prefix) ? "" : "/", s.prefix, "\" at ", s.endpoint, ")")

fullkey(s::S3Store, key::AbstractString) =
    isempty(s.prefix) ? String(key) : isempty(key) ? s.prefix : string(s.prefix, "/", key)

# ---------------------------------------------------------------------------------------------
# SigV4

"URI-encode per AWS: keep A-Za-z0-9 - . _ ~ (and `/` when `keepslash`), %XX (upper hex) the rest."
function uri_encode(s::AbstractString; keepslash::Bool=false)
    io = IOBuffer()
    for b in codeunits(s)
        if (UInt8('A') <= b <= UInt8('Z')) || (UInt8('a') <= b <= UInt8('z')) || (UInt8('0') <= b <= UInt8('9')) ||
                b == UInt8('-') || b == UInt8('.') || b == UInt8('_') || b == UInt8('~') ||
                (keepslash && b == UInt8('/'))
            write(io, b)
        else
            print(io, '%', uppercase(string(b, base=16, pad=2)))
        end
    end
    return String(take!(io))
end

"Query string with keys and values URI-encoded and sorted, as SigV4's canonical form (and the wire)."
canonical_query(query) =
    join([string(k, "=", v) for (k, v) in sort([(uri_encode(k), uri_encode(v)) for (k, v) in query])], "&")

# SHA.jl hashes ~80 MB/s; the system's libcrypto (when present) is ~10x faster for big chunks
const LIBCRYPTO = Ref{Ptr{Cvoid}}(C_NULL)
const LIBCRYPTO_TRIED = Ref(false)

function payload_sha256(data::AbstractVector{UInt8})
    if length(data) >= 1 << 16 && data isa Vector{UInt8}
        if !LIBCRYPTO_TRIED[]
            LIBCRYPTO_TRIED[] = true
            for name in ("libcrypto.so.3", "libcrypto.so.1.1", "libcrypto")
                h = Libdl.dlopen_e(name)
                f = h == C_NULL ? C_NULL : Libdl.dlsym_e(h, :SHA256)
                f == C_NULL || (LIBCRYPTO[] = f; break)
            end
        end
        if LIBCRYPTO[] != C_NULL
            md = Vector{UInt8}(undef, 32)
            ccall(LIBCRYPTO[], Ptr{UInt8}, (Ptr{UInt8}, Csize_t, Ptr{UInt8}), data, length(data), md)
            return md
        end
    end
    return sha256(data)
end

amz_date(t::DateTime) = string(Dates.format(t, "yyyymmdd"), "T", Dates.format(t, "HHMMSS"), "Z")

"""
    sigv4_sign!(headers, method, host, path, query, payload; access_key, secret_key,
                session_token="", region="us-east-1", service="s3", time=now(UTC))

Add `x-amz-date`, `x-amz-content-sha256` (hex SHA-256 of `payload`), `x-amz-security-token`
(if a session token is given) and `Authorization` to `headers`, signing `host` and every header
in `headers`.  `path` is the already URI-encoded path as sent; `query` holds unencoded pairs.
"""
function sigv4_sign!(headers::Vector{Pair{String,String}}, method::AbstractString, host::AbstractString,
                     path::AbstractString, query, payload::AbstractVector{UInt8};
                     access_key::AbstractString, secret_key::AbstractString, session_token::AbstractString="",
                     region::AbstractString="us-east-1", service::AbstractString="s3", time::DateTime=now(UTC))
    stamp = amz_date(time)
    day = stamp[1:8]
    payload_hash = bytes2hex(payload_sha256(payload))
    push!(headers, "x-amz-date" => stamp)
    push!(headers, "x-amz-content-sha256" => payload_hash)
    isempty(session_token) || push!(headers, "x-amz-security-token" => String(session_token))
    canon = Dict{String,String}()
    canon["host"] = String(host)
    for (k, v) in headers
        canon[lowercase(k)] = replace(strip(v), r"\s+" => " ")
    end
    names = sort(collect(keys(canon)))
    signed = join(names, ";")
    creq = string(method, "\n", path, "\n", canonical_query(query), "\n",
                  join([string(n, ":", canon[n], "\n") for n in names]), "\n",
                  signed, "\n", payload_hash)
    scope = string(day, "/", region, "/", service, "/aws4_request")
    tosign = string("AWS4-HMAC-SHA256\n", stamp, "\n", scope, "\n", bytes2hex(sha256(creq)))
    k = hmac_sha256(Vector{UInt8}(string("AWS4", secret_key)), day)
    k = hmac_sha256(k, String(region))
    k = hmac_sha256(k, String(service))
    k = hmac_sha256(k, "aws4_request")
    signature = bytes2hex(hmac_sha256(k, tosign))
    push!(headers, "Authorization" => string("AWS4-HMAC-SHA256 Credential=", access_key, "/", scope,
                                              ", SignedHeaders=", signed, ", Signature=", signature))
    return headers
end

# ---------------------------------------------------------------------------------------------
# requests

# tiny XML helpers for S3's replies: first/all texts of an element, entities unescaped
function xml_unescape(s::AbstractString)
    occursin('&', s) || return String(s)
    return replace(s, r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);" => function (m)
        e = m[2:end-1]
        e == "amp" ? "&" : e == "lt" ? "<" : e == "gt" ? ">" : e == "quot" ? "\"" : e == "apos" ? "'" :
        startswith(e, "#x") ? string(Char(parse(UInt32, e[3:end]; base=16))) : string(Char(parse(UInt32, e[2:end])))
    end)
end
xml_texts(xml::AbstractString, tag::AbstractString) =
    [xml_unescape(m.captures[1]) for m in eachmatch(Regex(string("<", tag, ">(.*?)</", tag, ">"), "s"), xml)]
function xml_text(xml::AbstractString, tag::AbstractString, default="")
    t = xml_texts(xml, tag)
    return isempty(t) ? default : t[1]
end

function s3_error_detail(r::HTTPResponse)
    xml = String(copy(r.body))
    code = xml_text(xml, "Code")
    msg = xml_text(xml, "Message")
    isempty(code) && isempty(msg) && return isempty(xml) ? "(no details)" : first(strip(xml), 200)
    return isempty(msg) ? code : string(code, ": ", msg)
end

# a 404 for the key itself, not for the bucket (a missing bucket is an error, not a missing key)
missing_key(r::HTTPResponse) = r.status == 404 && !occursin("<Code>NoSuchBucket</Code>", String(copy(r.body)))

function s3_fail(s::S3Store, r::HTTPResponse, key::AbstractString)
    where = string(" for s3://", s.bucket, "/", fullkey(s, key))
    if r.status == 403
        hint = isempty(s.access_key) ? " (the request was unsigned: AWS_ACCESS_KEY_ID is not set)" : ""
        throw(StoreError(String(key), string("access denied (403) by ", s.endpoint, where, ": ", s3_error_detail(r),
                                             hint)))
    end
    tries = r.status >= 500 ? string(" (", s.retries + 1, " attempts)") : ""
    throw(StoreError(String(key), string("S3 request to ", s.endpoint, where, " failed with HTTP ", r.status, tries,
                                         ": ", s3_error_detail(r))))
end

"""
    s3_request(s, method, objkey; query=[], headers=[], body=UInt8[], errkey=objkey) -> HTTPResponse

Send a signed path-style request for `objkey` (a full key in the bucket; `nothing` for the
bucket itself), retrying 5xx and transport failures.  `check(response)` runs on each reply inside
the retry loop: it returns the reply or throws `HTTPIntegrityError` (retried).  Failures that
persist raise `StoreError(errkey, ...)`; other HTTP statuses are left to the caller.
"""
function s3_request(s::S3Store, method::AbstractString, objkey::Union{AbstractString,Nothing};
                    query=Pair{String,String}[], headers=Pair{String,String}[], body::AbstractVector{UInt8}=UInt8[],
                    errkey::AbstractString=something(objkey, ""), check=identity, what::AbstractString=method)
    u = parse_url(s.endpoint)
    base = u.path == "/" ? "" : rstrip(u.path, '/')
    path = string(base, "/", uri_encode(s.bucket), objkey === nothing ? "" : string("/",
        uri_encode(objkey; keepslash=true)))
    q = canonical_query(query)
    url = string(u.scheme, "://", host_header(u), path, isempty(q) ? "" : "?", q)
    attempts = Ref(0)
    try
        return with_retries(; retries=s.retries, budget=s.budget) do
            attempts[] += 1
            hdrs = Pair{String,String}[String(k) => String(v) for (k, v) in headers]
            # without credentials, requests go unsigned (public buckets)
            isempty(s.access_key) ||
                sigv4_sign!(hdrs, method, host_header(u), path, query, body;
                            access_key=s.access_key, secret_key=s.secret_key, session_token=s.session_token,
                            region=s.region)
            check(http_request(method, url, hdrs, body; timeout=s.timeout, cainfo=ca_bundle(; s3=true)))
        end
    catch e
        e isa TLSCertificateError && throw(StoreError(String(errkey), string("S3 endpoint ", s.endpoint, ": ", e.msg)))
        e isa HTTPIntegrityError && throw(StoreError(String(errkey), string(what, " ", url, " failed after ",
                                                                             attempts[], " attempts: ", e.msg)))
        e isa HTTPTransportError || rethrow()
        unreachable = occursin(r"^(cannot connect|cannot resolve|connect timed out)|^curl error (6|7):", e.msg)
        throw(StoreError(String(errkey), string(unreachable ? string("cannot reach S3 endpoint ", s.endpoint, ": ") :
            "", what, " ", url, " failed after ", attempts[], " attempts: ", e.msg)))
    end
end

# ---------------------------------------------------------------------------------------------
# the store interface

"""
    readkey(s::S3Store, key) -> Vector{UInt8} or nothing (no such key)
"""
# a 404 for a key this store listed (and did not delete since) is retried, then an error: never "missing"
function _listed_check(s::S3Store, key::AbstractString)
    return r -> begin
        missing_key(r) && key in s.listed && throw(HTTPIntegrityError(string(s.endpoint, " ", key),
            "HTTP 404 for a key this store's listing has (it vanished after the listing, or the store answers " *
            "wrongly): not read as a missing chunk"))
        r
    end
end

function readkey(s::S3Store, key::AbstractString)
    checkkey(key)
    r = s3_request(s, "GET", fullkey(s, key); errkey=key, check=_listed_check(s, key))
    r.status == 200 && return r.body
    missing_key(r) && return nothing
    s3_fail(s, r, key)
end

"Does `key` exist?  A HEAD request, so the object is not downloaded."
function haskey_store(s::S3Store, key::AbstractString)
    checkkey(key)
    r = s3_request(s, "HEAD", fullkey(s, key); errkey=key)
    200 <= r.status < 300 && return true
    r.status == 404 && return false
    s3_fail(s, r, key)
end

"""
    readrange(s::S3Store, key, offset, length) -> Vector{UInt8} or nothing

`length` bytes from byte `offset` (0-based) through an HTTP Range request; fewer at the end of
the object.  A negative `offset` reads the last `length` bytes (a suffix range).
"""
function readrange(s::S3Store, key::AbstractString, offset::Integer, length::Integer)
    checkkey(key)
    length < 0 && throw(ArgumentError("negative length"))
    if length == 0
        # an empty range is not expressible in HTTP; still answer `nothing` for a missing key
        r = s3_request(s, "HEAD", fullkey(s, key); errkey=key)
        r.status == 404 && return nothing
        200 <= r.status < 300 || s3_fail(s, r, key)
        return UInt8[]
    end
    range = offset < 0 ? string("bytes=-", length) : string("bytes=", offset, "-", offset + length - 1)
    r = s3_request(s, "GET", fullkey(s, key); headers=["Range" => range], errkey=key, check=_listed_check(s, key))
    r.status == 206 && return r.body
    missing_key(r) && return nothing
    r.status == 416 && return UInt8[]          # offset beyond the end
    if r.status == 200                          # server ignored the range
        n = Base.length(r.body)
        lo = offset < 0 ? max(0, n - length) : min(offset, n)
        hi = offset < 0 ? n : min(offset + length, n)
        return r.body[lo+1:hi]
    end
    s3_fail(s, r, key)
end

"""
    writekey!(s::S3Store, key, data)
"""
function writekey!(s::S3Store, key::AbstractString, data::AbstractVector{UInt8})
    checkkey(key)
    sum = md5(data)
    hexsum = bytes2hex(sum)
    # the ETag of a single PUT is the MD5 of the bytes stored (not for SSE-KMS / SSE-C objects); S3 also
    # refuses a body that does not match Content-MD5, moto does not (it checks nothing), so both checks
    check = r -> begin
        etag = lowercase(strip(something(header(r, "etag"), ""), '"'))
        encrypted = header(r, "x-amz-server-side-encryption") == "aws:kms" ||
                    header(r, "x-amz-server-side-encryption-customer-algorithm") !== nothing
        if 200 <= r.status < 300 && occursin(r"^[0-9a-f]{32}$", etag) && !encrypted && etag != hexsum
            throw(HTTPIntegrityError(string(s.endpoint, " ", key), string("upload integrity: the server stored an ",
                "object whose MD5 (ETag ", etag, ") is not that of the ", length(data), " bytes sent (", hexsum,
                "): the upload was cut short or altered")))
        end
        r.status == 400 && occursin(r"<Code>(BadDigest|IncompleteBody|XAmzContentSHA256Mismatch)</Code>",
                                    String(copy(r.body))) &&
            throw(HTTPIntegrityError(string(s.endpoint, " ", key), string("upload integrity: ", s3_error_detail(r))))
        r
    end
    # moto stores form-urlencoded bodies as 0 bytes: always say octet-stream
    r = try
        s3_request(s, "PUT", fullkey(s, key); headers=["Content-Type" => "application/octet-stream",
                   "Content-MD5" => base64encode(sum)], body=data, errkey=key, check=check)
    catch e
        # what the server kept is not what was sent: remove it (best effort), so no reader trusts it
        e isa StoreError && occursin("upload integrity", e.msg) && try
            s3_request(s, "DELETE", fullkey(s, key); errkey=key)
        catch
        end
        rethrow()
    end
    200 <= r.status < 300 || s3_fail(s, r, key)
    return nothing
end

"""
    deletekey!(s::S3Store, key)

Deleting a missing key is not an error.
"""
function deletekey!(s::S3Store, key::AbstractString)
    checkkey(key)
    r = s3_request(s, "DELETE", fullkey(s, key); errkey=key)
    (200 <= r.status < 300 || r.status == 404) || s3_fail(s, r, key)
    delete!(s.listed, key)
    return nothing
end

"""
    listkeys(s::S3Store, prefix=""; page_size=1000) -> Vector{String}

All keys under `prefix` (a directory: `"a/b"` lists `a/b/...`, not `a/bc`), recursively,
relative to the store's prefix, sorted.  Follows ListObjectsV2 continuation tokens.
"""
function listkeys(s::S3Store, prefix::AbstractString=""; page_size::Integer=1000)
    p = String(strip(prefix, '/'))
    isempty(p) || checkkey(p)
    dir = fullkey(s, p)
    dir = isempty(dir) ? "" : string(dir, "/")
    keys = String[]
    token = ""
    while true
        query = ["list-type" => "2", "prefix" => dir, "max-keys" => string(page_size)]
        isempty(token) || push!(query, "continuation-token" => token)
        r = s3_request(s, "GET", nothing; query=query, errkey=isempty(p) ? "/" : p, what="listing (GET)",
                       check=r -> (r.status == 200 && check_listing(String(copy(r.body)), s.endpoint); r))
        r.status == 200 || s3_fail(s, r, prefix)
        xml = String(copy(r.body))
        skip = isempty(s.prefix) ? 0 : ncodeunits(s.prefix) + 1
        for k in xml_texts(xml, "Key")
            push!(keys, k[skip+1:end])
        end
        xml_text(xml, "IsTruncated") == "true" || break
        token = xml_text(xml, "NextContinuationToken")
    end
    union!(s.listed, keys)
    return sort!(keys)
end

"""
    check_listing(xml, endpoint)

A ListObjectsV2 reply is trusted only when complete: one `ListBucketResult` element closed at the
end, `IsTruncated` present (and a `NextContinuationToken` when true), every `Contents` closed with
one `Key`, and `KeyCount` (when given) equal to the keys and prefixes present.  Otherwise
`HTTPIntegrityError` (retried, then a `StoreError`): a listing cut short is never taken as the tree.
"""
function check_listing(xml::AbstractString, endpoint::AbstractString)
    bad(why) = throw(HTTPIntegrityError(endpoint, string("the S3 listing reply ", why,
                                                         ": not trusted (cut short or garbled)")))
    body = strip(xml)
    occursin("<ListBucketResult", body) || bad("has no ListBucketResult element")
    endswith(body, "</ListBucketResult>") || bad("does not end with </ListBucketResult>")
    trunc = xml_texts(body, "IsTruncated")
    (length(trunc) == 1 && trunc[1] in ("true", "false")) || bad("has no single IsTruncated true/false")
    trunc[1] == "true" && isempty(xml_text(body, "NextContinuationToken")) &&
        bad("is truncated (IsTruncated) but has no NextContinuationToken")
    nopen = length(collect(eachmatch(r"<Contents>", body)))
    nclose = length(collect(eachmatch(r"</Contents>", body)))
    nkeys = length(xml_texts(body, "Key"))
    (nopen == nclose == nkeys) || bad(string("has ", nopen, " <Contents>, ", nclose, " </Contents> and ", nkeys,
                                             " <Key> elements"))
    kc = xml_text(body, "KeyCount")
    if !isempty(kc)
        nprefixes = length(collect(eachmatch(r"<CommonPrefixes>", body)))
        tryparse(Int, kc) == nkeys + nprefixes || bad(string("says KeyCount ", kc, " but has ", nkeys, " keys"))
    end
    return nothing
end

# MD5 (RFC 1321) for Content-MD5 and ETag checks: the system's libcrypto when present, else Julia
const LIBCRYPTO_MD5 = Ref{Ptr{Cvoid}}(C_NULL)
const LIBCRYPTO_MD5_TRIED = Ref(false)

function md5(data::AbstractVector{UInt8})
    if !LIBCRYPTO_MD5_TRIED[]
        LIBCRYPTO_MD5_TRIED[] = true
        for name in ("libcrypto.so.3", "libcrypto.so.1.1", "libcrypto")
            h = Libdl.dlopen_e(name)
            f = h == C_NULL ? C_NULL : Libdl.dlsym_e(h, :MD5)
            f == C_NULL || (LIBCRYPTO_MD5[] = f; break)
        end
    end
    if LIBCRYPTO_MD5[] != C_NULL && data isa Vector{UInt8}
        md = Vector{UInt8}(undef, 16)
        ccall(LIBCRYPTO_MD5[], Ptr{UInt8}, (Ptr{UInt8}, Csize_t, Ptr{UInt8}), data, length(data), md)
        return md
    end
    return md5_julia(data)
end

const MD5_S = UInt32[7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                     5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                     4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                     6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
const MD5_K = [UInt32(floor(abs(sin(i + 1)) * 2.0^32)) for i in 0:63]

function md5_julia(data::AbstractVector{UInt8})
    n = length(data)
    msg = Vector{UInt8}(undef, ((n + 8) ÷ 64 + 1) * 64)
    copyto!(msg, 1, data, 1, n)
    msg[n+1] = 0x80
    fill!(view(msg, n+2:length(msg)), 0x00)
    bits = UInt64(n) * 8
    for i in 0:7
        msg[end-7+i] = UInt8((bits >> (8i)) & 0xff)
    end
    a0, b0, c0, d0 = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    M = Vector{UInt32}(undef, 16)
    for chunk in 0:(length(msg) ÷ 64 - 1)
        for j in 0:15
            o = chunk * 64 + 4j
            M[j+1] = UInt32(msg[o+1]) | UInt32(msg[o+2]) << 8 | UInt32(msg[o+3]) << 16 | UInt32(msg[o+4]) << 24
        end
        A, B, C, D = a0, b0, c0, d0
        for i in 0:63
            if i < 16
                F = (B & C) | (~B & D); g = i
            elseif i < 32
                F = (D & B) | (~D & C); g = (5i + 1) % 16
            elseif i < 48
                F = B ⊻ C ⊻ D; g = (3i + 5) % 16
            else
                F = C ⊻ (B | ~D); g = (7i) % 16
            end
            F = F + A + MD5_K[i+1] + M[g+1]
            A, D, C = D, C, B
            B = B + bitrotate(F, Int(MD5_S[i+1]))
        end
        a0 += A; b0 += B; c0 += C; d0 += D
    end
    out = Vector{UInt8}(undef, 16)
    for (k, w) in enumerate((a0, b0, c0, d0)), i in 0:3
        out[4(k-1)+i+1] = UInt8((w >> (8i)) & 0xff)
    end
    return out
end

"""
    create_bucket(endpoint, bucket; timeout=30, retries=4)

Create `bucket` (PUT /bucket); an existing bucket we own is fine.  For tests.
"""
function create_bucket(endpoint::AbstractString, bucket::AbstractString; timeout::Real=30, retries::Integer=4)
    s = S3Store(string("s3://", bucket); endpoint_url=endpoint, timeout=timeout, retries=retries)
    # outside us-east-1, S3 wants the region in the body
    body = s.region == "us-east-1" ? UInt8[] : Vector{UInt8}(string(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>",
        s.region, "</LocationConstraint></CreateBucketConfiguration>"))
    r = s3_request(s, "PUT", nothing; body=body, errkey=bucket)
    200 <= r.status < 300 && return nothing
    r.status == 409 && occursin("BucketAlreadyOwnedByYou", String(copy(r.body))) && return nothing
    s3_fail(s, r, bucket)
end
