# A minimal HTTP/1.1 client: enough for S3 against a local endpoint (moto) over plain sockets,
# and https through the system's libcurl (Julia 1.5 has neither HTTP nor Downloads in its stdlib).
# One connection per request (`Connection: close`): moto closes anyway, and it keeps the code small.
# Below the client: `HTTPStore`, the read-only http(s):// store (sockets for http, libcurl for
# https), the twin of Python's `stores.HttpStore` (docs/CONTRACT.md "HTTP(S) stores").

using Sockets

struct HTTPResponse
    status::Int
    headers::Vector{Pair{String,String}}   # names lowercased, in arrival order
    body::Vector{UInt8}
end

function header(r::HTTPResponse, name::AbstractString, default=nothing)
    lname = lowercase(name)
    for (k, v) in r.headers
        k == lname && return v
    end
    return default
end

"A transport failure (refused, reset, timeout, malformed reply): worth retrying."
struct HTTPTransportError <: Exception
    url::String
    msg::String
end
Base.showerror(io::IO, e::HTTPTransportError) = print(io, e.msg, " (", e.url, ")")

"""
A reply that arrived but cannot be trusted (a listing cut short, an upload stored with other bytes,
a listed key answering 404): retried like a transport failure, then a `StoreError` with `msg`.
"""
struct HTTPIntegrityError <: Exception
    url::String
    msg::String
end
Base.showerror(io::IO, e::HTTPIntegrityError) = print(io, e.msg, " (", e.url, ")")

"""
    http_settings() -> (timeout, retries, budget)

For S3 and HTTP(S) requests: `POLYZARR_HTTP_TIMEOUT` (seconds to connect, and without a byte while
waiting for or reading a reply; default 15), `POLYZARR_HTTP_RETRIES` (4) and
`POLYZARR_HTTP_RETRY_BUDGET` (30 s: no retry starts later); docs/CONTRACT.md "S3 and HTTP robustness".
"""
function http_settings()
    function num(name, default)
        v = get(ENV, name, "")
        isempty(v) && return Float64(default)
        x = tryparse(Float64, v)
        (x === nothing || !(x >= 0)) &&
            throw(StoreError(name, string(name, " must be a non-negative number, got ", repr(v))))
        return x
    end
    return (max(0.05, num("POLYZARR_HTTP_TIMEOUT", 15)), floor(Int, num("POLYZARR_HTTP_RETRIES", 4)),
            num("POLYZARR_HTTP_RETRY_BUDGET", 30))
end

"`POLYZARR_HTTP_LOW_SPEED`: a reply slower than this many bytes/s over a timeout window fails (default 1024; 0: off)."
function http_low_speed()
    v = get(ENV, "POLYZARR_HTTP_LOW_SPEED", "")
    x = isempty(v) ? 1024.0 : tryparse(Float64, v)
    (x === nothing || !(x >= 0)) &&
        throw(StoreError("POLYZARR_HTTP_LOW_SPEED", string("must be a non-negative number, got ", repr(v))))
    return x
end

"How many requests a chunk read may have in flight on `store` (tasks; 1: one after the other)."
io_concurrency(::AbstractStore) = 1

"The server's TLS certificate was refused (not signed by a trusted CA, wrong host): never retried."
struct TLSCertificateError <: Exception
    url::String
    msg::String
end
Base.showerror(io::IO, e::TLSCertificateError) = print(io, e.msg, " (", e.url, ")")

"""
    ca_bundle(; s3=false) -> String

The CA bundle (PEM file) that verifies TLS servers: `AWS_CA_BUNDLE` (S3 only), then
`CURL_CA_BUNDLE`, then `SSL_CERT_FILE`; "" for libcurl's default trust store.  A bundle replaces
the default list (as curl and botocore do).
"""
function ca_bundle(; s3::Bool=false)
    for name in (s3 ? ("AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE") : ("CURL_CA_BUNDLE", "SSL_CERT_FILE"))
        v = get(ENV, name, "")
        isempty(v) || return v
    end
    return ""
end

struct ParsedURL
    scheme::String
    host::String       # without brackets for IPv6
    port::Int
    path::String       # as given (already encoded), "/" if empty
    query::String      # without '?'
end

function parse_url(url::AbstractString)
    m = match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?([^?#]*)(?:\?([^#]*))?", url)
    m === nothing && throw(ArgumentError(string("not a URL: ", url)))
    scheme = lowercase(m.captures[1])
    host = m.captures[2]
    startswith(host, "[") && (host = host[2:end-1])
    isempty(host) && throw(ArgumentError(string("URL without host: ", url)))
    port = m.captures[3] === nothing ? (scheme == "https" ? 443 : 80) : parse(Int, m.captures[3])
    path = isempty(m.captures[4]) ? "/" : String(m.captures[4])
    query = m.captures[5] === nothing ? "" : String(m.captures[5])
    return ParsedURL(scheme, host, port, path, query)
end

function host_header(u::ParsedURL)
    h = occursin(':', u.host) ? string("[", u.host, "]") : u.host
    default = (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443)
    return default ? h : string(h, ":", u.port)
end

"""
    http_request(method, url, headers, body; timeout=30) -> HTTPResponse

One HTTP exchange, no retries.  `timeout` (seconds) bounds connecting and each wait for data.
Transport failures raise `HTTPTransportError`.
"""
function http_request(method::AbstractString, url::AbstractString,
                      headers::Vector{Pair{String,String}}, body::AbstractVector{UInt8}=UInt8[];
                      timeout::Real=30, cainfo::AbstractString=ca_bundle())
    u = parse_url(url)
    if u.scheme == "https"
        return curl_request(method, url, headers, body; timeout=timeout, cainfo=cainfo)
    elseif u.scheme != "http"
        throw(ArgumentError(string("unsupported URL scheme: ", url)))
    end
    return socket_request(method, u, url, headers, body, Float64(timeout))
end

# Closes the socket when nothing happened for `timeout` seconds, or when fewer than `low_speed`
# bytes a second came in over a `timeout`-second window (a trickle); `touch!` on progress.
mutable struct Watchdog
    sock::TCPSocket
    timeout::Float64
    last::Float64
    fired::Bool
    timer::Union{Timer,Nothing}
    low_speed::Float64
    wstart::Float64
    wbytes::Int
    why::String
end

function Watchdog(sock::TCPSocket, timeout::Float64, low_speed::Float64=http_low_speed())
    w = Watchdog(sock, timeout, time(), false, nothing, low_speed, 0.0, 0, "")
    period = min(0.1, timeout / 4)
    w.timer = Timer(period; interval=period) do t
        now = time()
        slow = w.low_speed > 0 && w.wstart > 0 && now - w.wstart >= w.timeout &&
               w.wbytes < w.low_speed * (now - w.wstart)
        if now - w.last > w.timeout || slow
            w.why = slow ? string("fewer than ", w.low_speed, " bytes/s for ", w.timeout, " s (too slow)") : ""
            w.fired = true
            close(t)
            close(w.sock)
        elseif w.wstart > 0 && now - w.wstart >= w.timeout
            w.wstart, w.wbytes = now, 0
        end
    end
    return w
end
# n > 0: reply bytes received; the low-speed window starts with the first of them (before, the idle rule)
function touch!(w::Watchdog, n::Integer=0)
    w.last = time()
    n > 0 && w.wstart == 0 && (w.wstart = w.last)
    w.wbytes += n
    return w
end
stop!(w::Watchdog) = w.timer === nothing || close(w.timer)

function resolve(host::AbstractString)
    # prefer IPv4: "localhost" may resolve to ::1 while the server listens on 127.0.0.1
    occursin(r"^[0-9.]+$|:", host) && return parse(IPAddr, host)
    try
        return getaddrinfo(host, IPv4)
    catch
        return getaddrinfo(host)
    end
end

function socket_request(method, u::ParsedURL, url, headers, body, timeout::Float64)
    ip = try
        resolve(u.host)
    catch e
        throw(HTTPTransportError(url, string("cannot resolve host ", u.host, ": ", sprint(showerror, e))))
    end
    sock = TCPSocket()
    w = Watchdog(sock, timeout)
    try
        try
            connect(sock, ip, u.port)       # the Watchdog closes `sock` if this takes too long
        catch e
            w.fired && throw(HTTPTransportError(url, string("connect timed out after ", timeout, " s")))
            throw(HTTPTransportError(url, string("cannot connect: ", transport_message(e))))
        end
        touch!(w)
        try
            io = IOBuffer()
            target = isempty(u.query) ? u.path : string(u.path, "?", u.query)
            print(io, method, " ", target, " HTTP/1.1\r\n")
            hashost = any(p -> lowercase(first(p)) == "host", headers)
            hashost || print(io, "Host: ", host_header(u), "\r\n")
            for (k, v) in headers
                print(io, k, ": ", v, "\r\n")
            end
            if !isempty(body) || method in ("PUT", "POST")
                print(io, "Content-Length: ", length(body), "\r\n")
            end
            print(io, "Connection: close\r\n\r\n")
            write(sock, take!(io))
            for lo in 1:(1 << 20):length(body)      # in pieces: a long upload keeps the watchdog fed
                write(sock, view(body, lo:min(lo + (1 << 20) - 1, length(body))))
                touch!(w)
            end
            touch!(w)
            return read_response(sock, w, method)
        catch e
            e isa HTTPTransportError && rethrow()
            w.fired && throw(HTTPTransportError(url, isempty(w.why) ?
                string("no response within ", timeout, " s (timed out)") : string("the reply came in at ", w.why)))
            throw(HTTPTransportError(url, string("connection failed: ", transport_message(e))))
        end
    finally
        stop!(w)
        close(sock)
    end
end

transport_message(e) = e isa Base.IOError ? e.msg : sprint(showerror, e)

function readline_crlf(sock, w::Watchdog)
    line = readline(sock; keep=true)
    touch!(w, ncodeunits(line))
    endswith(line, "\n") || throw(EOFError())
    return chomp(line)
end

function read_response(sock::TCPSocket, w::Watchdog, method)
    status_line = readline_crlf(sock, w)
    m = match(r"^HTTP/\d\.\d (\d{3})", status_line)
    m === nothing && error(string("malformed status line: ", repr(status_line)))
    status = parse(Int, m.captures[1])
    headers = Pair{String,String}[]
    while true
        line = readline_crlf(sock, w)
        isempty(line) && break
        i = findfirst(isequal(':'), line)
        i === nothing && continue
        push!(headers, lowercase(strip(line[1:i-1])) => String(strip(line[i+1:end])))
    end
    r = HTTPResponse(status, headers, UInt8[])
    if method == "HEAD" || status == 204 || status == 304 || 100 <= status < 200
        return r
    end
    te = header(r, "transfer-encoding")
    cl = header(r, "content-length")
    body = if te !== nothing && occursin("chunked", lowercase(te))
        read_chunked(sock, w)
    elseif cl !== nothing
        read_exactly(sock, w, parse(Int, cl))
    else
        read_to_eof(sock, w)
    end
    return HTTPResponse(status, headers, body)
end

function read_exactly(sock, w::Watchdog, n::Int)
    buf = Vector{UInt8}(undef, n)
    got = 0
    # straight into `buf`, in pieces so that a long body keeps the watchdog fed
    while got < n
        avail = bytesavailable(sock)
        if avail == 0
            eof(sock) && error(string("connection closed after ", got, " of ", n, " body bytes"))
            avail = bytesavailable(sock)
        end
        k = min(avail, n - got)
        GC.@preserve buf unsafe_read(sock, pointer(buf, got + 1), k)
        got += k
        touch!(w, k)
    end
    return buf
end

function read_to_eof(sock, w::Watchdog)
    io = IOBuffer()
    while !eof(sock)
        touch!(w, write(io, readavailable(sock)))
    end
    return take!(io)
end

function read_chunked(sock, w::Watchdog)
    io = IOBuffer()
    while true
        line = readline_crlf(sock, w)
        sz = parse(Int, strip(split(line, ';')[1]); base=16)
        if sz == 0
            while !isempty(readline_crlf(sock, w)); end     # trailers
            break
        end
        write(io, read_exactly(sock, w, sz))
        read_exactly(sock, w, 2)                          # CRLF after the chunk
    end
    return take!(io)
end

"""
    with_retries(f; retries=4, delay=0.1, budget=30) -> HTTPResponse

Call `f()` (one HTTP exchange) again after a 5xx reply, a transport failure or an
`HTTPIntegrityError`, up to `retries` more times, sleeping `delay`, 2`delay`, 4`delay`, ... in
between; no retry starts later than `budget` seconds after the first attempt started.  4xx replies
and refused certificates are final.  After the last attempt the 5xx response is returned, or the
error rethrown.
"""
function with_retries(f; retries::Integer=4, delay::Real=0.1, budget::Real=30)
    attempt = 0
    t0 = time()
    while true
        attempt += 1
        pause = delay * 2.0^(attempt - 1)
        r = try
            f()
        catch e
            (e isa HTTPTransportError || e isa HTTPIntegrityError) || rethrow()
            (attempt > retries || time() - t0 + pause > budget) && rethrow()
            e
        end
        r isa HTTPResponse && (r.status < 500 || attempt > retries || time() - t0 + pause > budget) && return r
        sleep(pause)
    end
end

# ---------------------------------------------------------------------------------------------
# https through libcurl (ccall; the Debian package ships libcurl-gnutls.so.4)

using Libdl

const CURL_LIB = Ref{Ptr{Cvoid}}(C_NULL)

function curl_handle()
    if CURL_LIB[] == C_NULL
        for name in ("libcurl-gnutls.so.4", "libcurl.so.4", "libcurl")
            h = Libdl.dlopen_e(name)
            if h != C_NULL
                ccall(Libdl.dlsym(h, :curl_global_init), Cint, (Clong,), 3)   # CURL_GLOBAL_ALL
                CURL_LIB[] = h
                break
            end
        end
    end
    CURL_LIB[] == C_NULL &&
        throw(HTTPTransportError("", "https needs libcurl (libcurl-gnutls.so.4 or libcurl.so.4), not found on this " *
            "system"))
    return CURL_LIB[]
end
curl_sym(s::Symbol) = Libdl.dlsym(curl_handle(), s)

# write/header callback: append the bytes to the IOBuffer passed as userdata
function curl_write_cb(ptr::Ptr{UInt8}, size::Csize_t, nmemb::Csize_t, userdata::Ptr{Cvoid})::Csize_t
    n = size * nmemb
    io = unsafe_pointer_to_objref(userdata)::IOBuffer
    unsafe_write(io, ptr, n)
    return n
end

const CURLOPT_WRITEDATA = 10001
const CURLOPT_URL = 10002
const CURLOPT_POSTFIELDS = 10015
const CURLOPT_HTTPHEADER = 10023
const CURLOPT_HEADERDATA = 10029
const CURLOPT_CUSTOMREQUEST = 10036
const CURLOPT_WRITEFUNCTION = 20011
const CURLOPT_HEADERFUNCTION = 20079
const CURLOPT_CONNECTTIMEOUT = 78
const CURLOPT_LOW_SPEED_LIMIT = 19
const CURLOPT_LOW_SPEED_TIME = 20
const CURLOPT_NOBODY = 44
const CURLOPT_NOSIGNAL = 99
const CURLOPT_POSTFIELDSIZE_LARGE = 30120
const CURLOPT_CAINFO = 10065
# curl's codes for a server certificate it would not trust (peer verification, CA file, issuer)
const CURL_CERT_ERRORS = (51, 58, 60, 77, 83)
const CURLINFO_RESPONSE_CODE = 0x200002

setopt(h, opt, v::Integer) = ccall(curl_sym(:curl_easy_setopt), Cint, (Ptr{Cvoid}, Cint, Clong...), h, opt, v)
setopt(h, opt, v::Ptr) = ccall(curl_sym(:curl_easy_setopt), Cint, (Ptr{Cvoid}, Cint, Ptr{Cvoid}...), h, opt, v)
setopt(h, opt, v::String) = ccall(curl_sym(:curl_easy_setopt), Cint, (Ptr{Cvoid}, Cint, Cstring...), h, opt, v)

"""
    curl_request(method, url, headers, body; timeout=30) -> HTTPResponse

The same exchange as `http_request` through libcurl (used for https; works for http too).
Blocks the calling thread while curl runs.
"""
function curl_request(method::AbstractString, url::AbstractString,
                      headers::Vector{Pair{String,String}}, body::AbstractVector{UInt8}=UInt8[];
                      timeout::Real=30, cainfo::AbstractString=ca_bundle())
    h = ccall(curl_sym(:curl_easy_init), Ptr{Cvoid}, ())
    h == C_NULL && throw(HTTPTransportError(url, "curl_easy_init failed"))
    slist = Ptr{Cvoid}(C_NULL)
    bodybuf = IOBuffer()
    headbuf = IOBuffer()
    sendbody = !isempty(body) || method in ("PUT", "POST")
    payload = isempty(body) ? UInt8[0] : Vector{UInt8}(body)   # curl wants a valid pointer even for 0 bytes
    try
        for (k, v) in headers
            slist = ccall(curl_sym(:curl_slist_append), Ptr{Cvoid}, (Ptr{Cvoid}, Cstring), slist, string(k, ": ", v))
        end
        # no "Expect: 100-continue" round trip
        slist = ccall(curl_sym(:curl_slist_append), Ptr{Cvoid}, (Ptr{Cvoid}, Cstring), slist, "Expect:")
        cb = @cfunction(curl_write_cb, Csize_t, (Ptr{UInt8}, Csize_t, Csize_t, Ptr{Cvoid}))
        GC.@preserve bodybuf headbuf payload begin
            setopt(h, CURLOPT_URL, String(url))
            setopt(h, CURLOPT_NOSIGNAL, 1)
            setopt(h, CURLOPT_CUSTOMREQUEST, String(method))
            method == "HEAD" && setopt(h, CURLOPT_NOBODY, 1)
            if sendbody
                setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, length(body))
                setopt(h, CURLOPT_POSTFIELDS, pointer(payload))
            end
            setopt(h, CURLOPT_HTTPHEADER, slist)
            setopt(h, CURLOPT_WRITEFUNCTION, cb)
            setopt(h, CURLOPT_WRITEDATA, pointer_from_objref(bodybuf))
            setopt(h, CURLOPT_HEADERFUNCTION, cb)
            setopt(h, CURLOPT_HEADERDATA, pointer_from_objref(headbuf))
            setopt(h, CURLOPT_CONNECTTIMEOUT, max(1, round(Int, timeout)))
            setopt(h, CURLOPT_LOW_SPEED_LIMIT, max(1, round(Int, http_low_speed())))
            setopt(h, CURLOPT_LOW_SPEED_TIME, max(1, round(Int, timeout)))
            isempty(cainfo) || setopt(h, CURLOPT_CAINFO, String(cainfo))
            rc = ccall(curl_sym(:curl_easy_perform), Cint, (Ptr{Cvoid},), h)
        end
        if rc != 0
            msg = unsafe_string(ccall(curl_sym(:curl_easy_strerror), Cstring, (Cint,), rc))
            rc in CURL_CERT_ERRORS && throw(TLSCertificateError(url, string("the TLS certificate of ", url,
                " was not trusted (curl error ", rc, ": ", msg, isempty(cainfo) ? "; system CA store" :
                string("; CA bundle ", cainfo), ")")))
            throw(HTTPTransportError(url, string("curl error ", rc, ": ", msg)))
        end
        code = Ref{Clong}(0)
        ccall(curl_sym(:curl_easy_getinfo), Cint, (Ptr{Cvoid}, Cint, Ptr{Clong}...), h, CURLINFO_RESPONSE_CODE, code)
        hdrs = Pair{String,String}[]
        for line in split(String(take!(headbuf)), "\r\n")
            startswith(line, "HTTP/") && empty!(hdrs)     # keep the last response's headers only
            i = findfirst(isequal(':'), line)
            i === nothing && continue
            push!(hdrs, lowercase(strip(line[1:i-1])) => String(strip(line[i+1:end])))
        end
        return HTTPResponse(Int(code[]), hdrs, take!(bodybuf))
    finally
        slist == C_NULL || ccall(curl_sym(:curl_slist_free_all), Cvoid, (Ptr{Cvoid},), slist)
        ccall(curl_sym(:curl_easy_cleanup), Cvoid, (Ptr{Cvoid},), h)
    end
end

# ---------------------------------------------------------------------------------------------
# HTTPStore: read-only http(s):// store, listing-free, with bounded retries

"""
    HTTPStore(url; timeout=15, retries=4, budget=30)

A read-only store rooted at an `http://` or `https://` URL (HTTP/1.1 over sockets for http,
libcurl for https; Range requests for byte ranges).  HTTP has no listing: nodes are found by
their metadata documents and trees by consolidated metadata.  A 404 reads as a missing key (a
chunk → its fill value); 401/403 is a `StoreError` naming the URL; 5xx replies and transport
failures (resets, timeouts) are retried `retries` more times (0.1, 0.2, 0.4, 0.8 s apart; none
started after `budget` seconds; defaults from `http_settings()`); a certificate the CA bundle
(`ca_bundle()`: `CURL_CA_BUNDLE`, `SSL_CERT_FILE`) does not trust is a
`StoreError` saying so.
"""
struct HTTPStore <: AbstractStore
    base::String            # no trailing "/"
    timeout::Float64
    retries::Int
    budget::Float64
    cainfo::String
end

function HTTPStore(url::AbstractString; timeout=nothing, retries=nothing, budget=nothing)
    occursin(r"^https?://[^/]", url) || throw(PathError(String(url), "not an http:// or https:// URL"))
    t, n, b = http_settings()
    return HTTPStore(String(rstrip(url, '/')), Float64(something(timeout, t)), Int(something(retries, n)),
                     Float64(something(budget, b)), ca_bundle())
end

Base.show(io::IO, s::HTTPStore) = print(io, "HTTPStore(\"", s.base, "\")")
io_concurrency(s::HTTPStore) = startswith(s.base, "http://") ? 16 : 1

http_url(s::HTTPStore, key::AbstractString) = isempty(key) ? s.base : string(s.base, "/", checkkey(key))

# one GET (with retries); transport failures and refused certificates become StoreErrors
function http_get(s::HTTPStore, key::AbstractString, headers::Vector{Pair{String,String}}=Pair{String,String}[])
    url = http_url(s, key)
    attempts = Ref(0)
    r = try
        with_retries(; retries=s.retries, budget=s.budget) do
            attempts[] += 1
            # http: the socket client (tasks overlap its waits: io_concurrency); https: libcurl
            http_request("GET", url, headers; timeout=s.timeout, cainfo=s.cainfo)
        end
    catch e
        e isa TLSCertificateError && throw(StoreError(String(key), e.msg))
        e isa HTTPTransportError || rethrow()
        throw(StoreError(String(key), string("GET ", url, " failed after ", attempts[], " attempts: ", e.msg)))
    end
    r.status in (401, 403) && throw(StoreError(String(key), string("access denied (HTTP ", r.status, ") at ", url)))
    r.status >= 500 && throw(StoreError(String(key), string("GET ", url, " failed after ", attempts[],
                                                              " attempts: HTTP ", r.status)))
    return r, url
end

function readkey(s::HTTPStore, key::AbstractString)
    r, url = http_get(s, key)
    r.status == 200 && return r.body
    r.status == 404 && return nothing
    throw(StoreError(String(key), string("HTTP ", r.status, " from ", url)))
end

function readrange(s::HTTPStore, key::AbstractString, offset::Integer, length::Integer)
    length < 0 && throw(ArgumentError("negative length"))
    if length == 0
        return readkey(s, key) === nothing ? nothing : UInt8[]
    end
    range = offset < 0 ? string("bytes=-", length) : string("bytes=", offset, "-", offset + length - 1)
    r, url = http_get(s, key, ["Range" => range])
    r.status == 206 && return r.body
    r.status == 404 && return nothing
    r.status == 416 && return UInt8[]
    r.status == 200 && return _byterange(r.body, offset, length)     # the server ignored the range
    throw(StoreError(String(key), string("HTTP ", r.status, " from ", url)))
end

"""
    listkeys(s::HTTPStore, prefix="")

HTTP has no listing: the metadata keys of the node at `prefix` when it is an array (so a walk
finds it); a group without consolidated metadata, or no node at all, is a `StoreError` naming
the URL.
"""
function listkeys(s::HTTPStore, prefix::AbstractString="")
    p = _normprefix(prefix)
    where = isempty(p) ? s.base : string(s.base, "/", p)
    errkey = isempty(p) ? "/" : p
    j = readkey(s, joinkey(p, "zarr.json"))
    if j !== nothing
        nt = _v3_node_type(j)
        nt == "group" || return [joinkey(p, "zarr.json")]
        kind = "a v3 group without consolidated metadata in its zarr.json"
    else
        found = [joinkey(p, k) for k in (".zarray", ".zattrs") if readkey(s, joinkey(p, k)) !== nothing]
        any(k -> endswith(k, ".zarray"), found) && return found
        readkey(s, joinkey(p, ".zgroup")) === nothing && throw(StoreError(errkey, string("no Zarr node at ", where,
            ": zarr.json, .zarray, .zgroup and .zmetadata are all missing (HTTP 404)")))
        kind = "a v2 group without .zmetadata"
    end
    throw(StoreError(errkey, string(where, " is ", kind, ", and HTTP has no listing: open an array URL directly, ",
        "or consolidate the tree's metadata (zarr.consolidate_metadata) before serving it")))
end

writekey!(s::HTTPStore, key::AbstractString, data::AbstractVector{UInt8}) =
    throw(StoreError(String(key), string("store ", s.base, " is read-only (HTTP stores cannot be written)")))
deletekey!(s::HTTPStore, key::AbstractString) =
    throw(StoreError(String(key), string("store ", s.base, " is read-only (HTTP stores cannot be written)")))
