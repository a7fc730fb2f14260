"""An independent RFC 9162 §2.1 implementation, written from the RFC's text, that checks what the Swift
tree produced: for every tree in the input it recomputes the root (MTH), every inclusion proof (PATH) and
every consistency proof (PROOF) from the leaves alone, and verifies the Swift proofs with the RFC's
verification algorithms (§2.1.3.2, §2.1.4.2). Prints "ok N" or the first difference, exit 1."""
import hashlib, json, sys

def h(data): return hashlib.sha256(data).digest()
def leaf(d): return h(b"\x00" + d)
def node(l, r): return h(b"\x01" + l + r)

def k_of(n):
    k = 1
    while k * 2 < n: k *= 2
    return k

def mth(d):
    n = len(d)
    if n == 0: return h(b"")
    if n == 1: return leaf(d[0])
    k = k_of(n)
    return node(mth(d[:k]), mth(d[k:]))

def path(m, d):
    n = len(d)
    if n <= 1: return []
    k = k_of(n)
    if m < k: return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]

def subproof(m, d, b):
    n = len(d)
    if m == n: return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k: return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]

def proof(m, d): return subproof(m, d, True)

def verify_inclusion(index, size, leaf_hash, p, root):
    if index >= size: return False
    fn, sn, r = index, size - 1, leaf_hash
    for x in p:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(x, r)
            if not fn & 1:
                while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            r = node(r, x)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root

def verify_consistency(first, second, first_hash, second_hash, p):
    if first == second: return not p and first_hash == second_hash
    if not p: return False
    if first & (first - 1) == 0: p = [first_hash] + p
    fn, sn = first - 1, second - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr = node(c, fr); sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0

def main():
    cases = json.load(open(sys.argv[1]))
    checked = 0
    for case in cases:
        d = [bytes.fromhex(x) for x in case["leaves"]]
        n = len(d)
        root = mth(d)
        if bytes.fromhex(case["root"]) != root: print(f"size {n}: root differs"); sys.exit(1)
        for i, p in enumerate(case["inclusion"]):
            p = [bytes.fromhex(x) for x in p]
            if p != path(i, d): print(f"size {n} leaf {i}: inclusion proof differs"); sys.exit(1)
            if not verify_inclusion(i, n, leaf(d[i]), p, root): print(f"size {n} leaf {i}: does not verify"); sys.exit(1)
            checked += 1
        for m, p in enumerate(case["consistency"], start=1):
            p = [bytes.fromhex(x) for x in p]
            if p != proof(m, d): print(f"{m} -> {n}: consistency proof differs"); sys.exit(1)
            if m < n and not verify_consistency(m, n, mth(d[:m]), root, p): print(f"{m} -> {n}: does not verify"); sys.exit(1)
            checked += 1
    print(f"ok {checked}")

main()
