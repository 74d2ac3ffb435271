"""Fixtures for julia/test/test_compressors.jl, made with numcodecs.

    python make_fixtures.py            # (re)write the fixtures next to this script
    python make_fixtures.py --out DIR  # ... or into DIR
    python make_fixtures.py --verify DIR

Fixture mode writes a few shared inputs (`*.raw`), one `<name>.enc` per codec configuration and
`manifest.json`: for each case the config given to the codec, numcodecs' get_config() of it, the
input it encodes, and whether our system libraries are expected to produce the same bytes.

Verify mode reads DIR/manifest.json written by the Julia test ({"cases": [{"name", "config",
"raw", "enc"}]}), decodes each `.enc` with numcodecs and compares with the `.raw`. Prints one line
per case; exit status 1 if any case fails.
"""

import argparse
import json
import os
import sys

import numcodecs
import numpy as np
from numcodecs.compat import ensure_bytes

HERE = os.path.dirname(os.path.abspath(__file__))


def inputs():
    rng = np.random.default_rng(20261123)
    ints = np.cumsum(rng.integers(-50, 50, 1024)).astype('<i8')           # 8 KiB random walk
    floats = np.round(np.sin(np.arange(1024) / 20.0) * 100, 2).astype('<f8')  # 8 KiB
    small = np.arange(256, dtype='<u4') * 2654435761 % 1000                # 1 KiB, for shuffle
    return {
        'ints.raw': ints,
        'floats.raw': floats,
        'small.raw': small.astype('<u4'),
        'empty.raw': np.zeros(0, dtype='<i8'),
    }


def cases():
    """(name, config, raw file, identical-bytes expected)"""
    out = []
    add = lambda name, cfg, raw='ints.raw', same=False: out.append((name, cfg, raw, same))
    add('zlib_default', {'id': 'zlib'}, same=True)
    for level in (1, 5, 9):
        add(f'zlib_{level}', {'id': 'zlib', 'level': level}, same=True)
    for level in (1, 9):
        add(f'gzip_{level}', {'id': 'gzip', 'level': level})
    for level in (1, 9):
        add(f'bz2_{level}', {'id': 'bz2', 'level': level}, 'floats.raw', same=True)
    add('lz4_1', {'id': 'lz4'}, same=True)
    add('lz4_accel10', {'id': 'lz4', 'acceleration': 10}, 'floats.raw', same=True)
    for level in (0, 1, 3):
        add(f'zstd_{level}', {'id': 'zstd', 'level': level}, same=True)
    add('zstd_5', {'id': 'zstd', 'level': 5})
    add('zstd_3_checksum', {'id': 'zstd', 'level': 3, 'checksum': True}, 'floats.raw', same=True)
    add('zstd_default', {'id': 'zstd'}, 'floats.raw', same=True)
    add('lzma_default', {'id': 'lzma'})
    add('lzma_preset1', {'id': 'lzma', 'preset': 1}, 'floats.raw')
    add('lzma_crc32', {'id': 'lzma', 'check': 1, 'preset': 2})
    add('lzma_alone', {'id': 'lzma', 'format': 2, 'preset': 3}, 'floats.raw')
    for es in (2, 4, 8):
        add(f'shuffle_{es}', {'id': 'shuffle', 'elementsize': es}, 'small.raw', same=True)
    add('shuffle_default', {'id': 'shuffle'}, 'small.raw', same=True)
    add('crc32c', {'id': 'crc32c'}, 'small.raw', same=True)
    for cname in ('lz4', 'lz4hc', 'zstd', 'zlib', 'blosclz'):
        for shuffle in (0, 1, 2):
            raw = 'floats.raw' if shuffle == 2 else 'ints.raw'
            add(f'blosc_{cname}_{shuffle}', {'id': 'blosc', 'cname': cname, 'clevel': 5, 'shuffle': shuffle},
                raw, same=cname in ('lz4', 'zlib', 'blosclz'))
    add('blosc_default', {'id': 'blosc'}, same=True)
    add('blosc_autoshuffle', {'id': 'blosc', 'cname': 'lz4', 'clevel': 9, 'shuffle': -1}, same=True)
    add('blosc_blocksize', {'id': 'blosc', 'cname': 'blosclz', 'clevel': 7, 'shuffle': 1, 'blocksize': 2048},
        'floats.raw', same=True)
    add('blosc_clevel0', {'id': 'blosc', 'cname': 'lz4', 'clevel': 0, 'shuffle': 1}, 'small.raw', same=True)
    for cfg in ({'id': 'zlib'}, {'id': 'gzip'}, {'id': 'bz2'}, {'id': 'zstd'}, {'id': 'lzma'},
                {'id': 'blosc'}, {'id': 'lz4'}, {'id': 'crc32c'}):
        add(f'empty_{cfg["id"]}', cfg, 'empty.raw', same=cfg['id'] in ('zlib', 'bz2', 'zstd', 'lz4', 'blosc', 'crc32c'))
    return out


def concatenated(arrays):
    """Decode-only cases: several gzip members / zstd frames / bz2 and xz streams in one chunk."""
    ints = arrays['ints.raw']
    half = len(ints) // 2
    parts = [ints[:half], ints[half:]]
    out = []
    for name, cfg in (('gzip_multimember', {'id': 'gzip', 'level': 5}), ('zstd_multiframe', {'id': 'zstd'}),
                      ('bz2_multistream', {'id': 'bz2'}), ('lzma_multistream', {'id': 'lzma'})):
        codec = numcodecs.get_codec(dict(cfg))
        enc = b''.join(bytes(codec.encode(p)) for p in parts)
        assert bytes(codec.decode(enc)) == ints.tobytes(), name
        out.append((name, cfg, 'ints.raw', enc))
    return out


# numcodecs 0.16.6 fails to decode what it writes for an empty input with these codecs.
NUMCODECS_CANNOT_DECODE = ('empty_zstd', 'empty_blosc', 'empty_lz4')


def typesize_of(arr):
    return arr.dtype.itemsize


def make(outdir):
    os.makedirs(outdir, exist_ok=True)
    arrays = inputs()
    for fname, arr in arrays.items():
        with open(os.path.join(outdir, fname), 'wb') as f:
            f.write(arr.tobytes())
    manifest = {'numcodecs': numcodecs.__version__, 'cases': []}

    def record(name, cfg, raw, enc, same, decode_only=False):
        codec = numcodecs.get_codec(dict(cfg))
        with open(os.path.join(outdir, name + '.enc'), 'wb') as f:
            f.write(enc)
        manifest['cases'].append({
            'name': name, 'config': cfg, 'expected_config': codec.get_config(), 'raw': raw,
            'enc': name + '.enc', 'typesize': typesize_of(arrays[raw]), 'identical': same,
            'decode_only': decode_only})

    for name, cfg, raw, same in cases():
        codec = numcodecs.get_codec(dict(cfg))
        enc = bytes(codec.encode(arrays[raw]))      # blosc takes its typesize from the array
        if name not in NUMCODECS_CANNOT_DECODE:
            assert bytes(codec.decode(enc)) == arrays[raw].tobytes(), name
        record(name, cfg, raw, enc, same)
    for name, cfg, raw, enc in concatenated(arrays):
        record(name, cfg, raw, enc, False, decode_only=True)

    # numcodecs refuses a shuffle of a partial element; the Julia side raises CodecError too.
    try:
        numcodecs.Shuffle(4).encode(np.zeros(10, dtype='u1'))
        manifest['shuffle_partial_element'] = 'accepted'
    except ValueError as e:
        manifest['shuffle_partial_element'] = f'ValueError: {e}'

    with open(os.path.join(outdir, 'manifest.json'), 'w') as f:
        # one case per line: small, and diffs stay readable
        cases_json = ',\n  '.join(json.dumps(c, sort_keys=True) for c in manifest['cases'])
        head = json.dumps({k: v for k, v in manifest.items() if k != 'cases'}, sort_keys=True)[:-1]
        f.write(f'{head},\n "cases": [\n  {cases_json}\n ]}}\n')
    total = sum(os.path.getsize(os.path.join(outdir, f)) for f in os.listdir(outdir))
    print(f'{len(manifest["cases"])} cases, {total} bytes in {outdir}')


def verify(indir):
    with open(os.path.join(indir, 'manifest.json')) as f:
        manifest = json.load(f)
    failures = 0
    for case in manifest['cases']:
        name = case['name']
        try:
            codec = numcodecs.get_codec(dict(case['config']))
            with open(os.path.join(indir, case['enc']), 'rb') as f:
                enc = f.read()
            with open(os.path.join(indir, case['raw']), 'rb') as f:
                raw = f.read()
            dec = ensure_bytes(codec.decode(enc))
            if dec == raw:
                print(f'ok {name}')
            else:
                failures += 1
                print(f'FAIL {name}: decoded {len(dec)} bytes differ from the {len(raw)} expected')
        except Exception as e:  # noqa: BLE001 - report every case
            failures += 1
            print(f'FAIL {name}: {type(e).__name__}: {e}')
    print(f'{len(manifest["cases"]) - failures} ok, {failures} failed')
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--verify', metavar='DIR')
    args = ap.parse_args()
    if args.verify:
        return verify(args.verify)
    make(args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
