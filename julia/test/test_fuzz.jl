# The seeded fuzzer (fuzz.jl) on a few thousand cases: no crash, hang or blow-up, and no damaged
# checksummed chunk read back as if whole (about 40 s).  `julia --project=julia julia/test/fuzz.jl N SEED`
# runs more.
include(joinpath(@__DIR__, "testutils.jl"))
isdefined(Main, :PZFuzz) || include(joinpath(@__DIR__, "fuzz.jl"))

@testset "fuzz" begin
    n = 2000
    t = @elapsed counts = Main.PZFuzz.fuzz(n, 15; quiet=true)
    Main.PZFuzz.print_table(stdout, counts, n, t)
    @test sum(values(counts)) == n
    for o in ("CRASH", "HANG", "BLOWUP", "WRONG")
        @test sum(counts[(w, o)] for w in (:meta, :chunk)) == 0
    end
    # the mutations reach past the parsers: some cases still read, others fail in the vocabulary
    @test counts[(:chunk, "ok")] > 0 && counts[(:meta, "vocab-error")] > 0 && counts[(:chunk, "vocab-error")] > 0
end
