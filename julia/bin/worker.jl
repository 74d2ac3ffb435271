# The Julia worker driven by python/polyzarr/julia/ (worker.py): JSON lines on stdin/stdout (docs/CONTRACT.md).
include(joinpath(@__DIR__, "load.jl"))

# Replies go to the original stdout; anything else printed to stdout (by us or a library) is
# sent to stderr so it cannot corrupt the protocol stream.
function protocol_output()
    Sys.isunix() || return stdout
    fd = ccall(:dup, Cint, (Cint,), 1)
    fd < 0 && return stdout
    out = fdio(fd, true)
    try
        redirect_stdout(stderr)
    catch
        close(out)
        return stdout
    end
    return out
end

exit(PolyZarr.worker_main(stdin, protocol_output()))
