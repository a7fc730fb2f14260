"""An independent verifier of the gateway's verifiable log, written from the public texts alone — RFC 9162
§2.1 (Merkle tree hashes, §2.1.3.2 inclusion and §2.1.4.2 consistency verification), C2SP signed-note,
tlog-checkpoint, tlog-cosignature and tlog-tiles — with `cryptography`'s Ed25519. It shares no code with
the gateway. Input: a manifest (JSON) of what a participant fetched. Prints "ok ..." or the first failure,
exit 1."""
import base64, hashlib, json, struct, sys
import xml.etree.ElementTree as ET
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha256(data): return hashlib.sha256(data).digest()
def leaf_hash(data): return sha256(b"\x00" + data)
def node_hash(left, right): return sha256(b"\x01" + left + right)


def mth(hashes):
    """RFC 9162 §2.1.1 over leaf hashes."""
    n = len(hashes)
    if n == 0: return sha256(b"")
    if n == 1: return hashes[0]
    k = 1
    while k * 2 < n: k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size: return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 §2.1.4.2."""
    if first == second: return not proof and first_hash == second_hash
    if not proof: return False
    if first & (first - 1) == 0: proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr); sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1; sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def fail(message):
    print(message)
    sys.exit(1)


def parse_vkey(text, kind):
    """C2SP signed-note verifier key: NAME+KEYID+BASE64(type || key); key ID = SHA-256(name \\n type key)[:4]."""
    name, key_id, material = text.strip().split("+", 2)
    raw = base64.b64decode(material)
    if raw[0] != kind or len(raw) != 33: fail(f"vkey {text}: not an Ed25519 key of type {kind}")
    if sha256(name.encode() + b"\n" + raw[:1] + raw[1:])[:4].hex() != key_id: fail(f"vkey {text}: its key ID does not match")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def split_note(text):
    """A signed note: the body (ending in a newline), a blank line, the signature lines."""
    cut = text.rindex("\n\n")
    body, lines = text[:cut + 1], text[cut + 2:].split("\n")
    if lines[-1] != "": fail("a note must end with a newline")
    signatures = []
    for line in lines[:-1]:
        if not line.startswith("\u2014 "): fail(f"not a signature line: {line!r}")
        name, value = line[2:].split(" ")
        signatures.append((name, base64.b64decode(value)))
    return body, signatures


def verify_checkpoint(text, vkey):
    """The checkpoint (origin, size, root) of a note signed by the log key."""
    name, key_id, key = vkey
    body, signatures = split_note(text)
    good = False
    for signer, raw in signatures:
        if signer == name and raw[:4] == key_id:
            try:
                key.verify(raw[4:], body.encode()); good = True
            except InvalidSignature:
                fail(f"the checkpoint's signature by {name} does not verify")
    if not good: fail(f"the checkpoint carries no signature by {name}")
    origin, size, root = body.split("\n")[:3]
    if origin != name: fail(f"the checkpoint's origin {origin} is not the key's name {name}")
    return int(size), base64.b64decode(root), body, signatures


def verify_cosignature(body, signatures, vkey):
    """C2SP tlog-cosignature/v1: keyID || u64 time || Ed25519 over "cosignature/v1\\ntime T\\n" + body."""
    name, key_id, key = vkey
    for signer, raw in signatures:
        if signer == name and raw[:4] == key_id and len(raw) == 76:
            (time,) = struct.unpack(">Q", raw[4:12])
            key.verify(raw[12:], f"cosignature/v1\ntime {time}\n".encode() + body.encode())
            return time
    fail(f"no cosignature by {name}")


def read_receipt(text):
    if text.lstrip().startswith("<"):
        ns = "{urn:tongbao:receipt:1}"
        root = ET.fromstring(text)
        get = lambda tag: root.find(ns + tag).text
        return dict(issuer=get("issuer"), id=get("id"), sha256=get("sha256"), position=int(get("position")), leaf=get("leaf"),
                    checkpoint=get("checkpoint"), inclusionProof=[h.text for h in root.find(ns + "inclusionProof")])
    return json.loads(text)


def main():
    manifest = json.load(open(sys.argv[1]))
    vkey = parse_vkey(manifest["vkey"], 0x01)
    checked = []
    for item in manifest["receipts"]:
        receipt = read_receipt(item["receipt"])
        size, root, _, _ = verify_checkpoint(receipt["checkpoint"], vkey)
        leaf = base64.b64decode(receipt["leaf"])
        fields = dict(line.split(" ", 1) for line in leaf.decode().rstrip("\n").split("\n")[1:])
        expected = dict(position=str(receipt["position"]), kind="accepted", issuer=receipt["issuer"], id=receipt["id"], sha256=receipt["sha256"])
        for key, value in expected.items():
            if fields.get(key) != value: fail(f"receipt {receipt['id']}: the leaf's {key} is {fields.get(key)}, not {value}")
        if receipt["sha256"] != hashlib.sha256(base64.b64decode(item["sent"])).hexdigest():
            fail(f"receipt {receipt['id']}: its SHA-256 is not the bytes sent")
        proof = [base64.b64decode(h) for h in receipt["inclusionProof"]]
        if not verify_inclusion(receipt["position"] - 1, size, leaf_hash(leaf), proof, root):
            fail(f"receipt {receipt['id']}: the inclusion proof does not verify")
    checked.append(f"{len(manifest['receipts'])} receipts")

    old_size, old_root, _, _ = verify_checkpoint(manifest["checkpoints"][0], vkey)
    new_size, new_root, new_body, new_signatures = verify_checkpoint(manifest["checkpoints"][1], vkey)
    consistency = manifest["consistency"]
    if (consistency["from"], consistency["to"]) != (old_size, new_size): fail("the consistency proof is for other sizes")
    if not verify_consistency(old_size, new_size, old_root, new_root, [base64.b64decode(h) for h in consistency["hashes"]]):
        fail(f"the log of size {new_size} is not consistent with the checkpoint of size {old_size}")
    checked.append(f"consistency {old_size}->{new_size}")

    bundle, leaves = base64.b64decode(manifest["tiles"]["entries"]), []
    while bundle:
        (length,) = struct.unpack(">H", bundle[:2])
        leaves.append(bundle[2:2 + length]); bundle = bundle[2 + length:]
    level0 = base64.b64decode(manifest["tiles"]["level0"])
    hashes = [level0[i:i + 32] for i in range(0, len(level0), 32)]
    if len(leaves) != new_size or hashes != [leaf_hash(x) for x in leaves]: fail("the hash tile is not the entry bundle's leaf hashes")
    if mth(hashes) != new_root: fail("the tiles do not hash to the checkpoint's root")
    checked.append(f"tiles of {len(leaves)} entries")

    if "witness" in manifest:
        cosigned_size, _, body, signatures = verify_checkpoint(manifest["witness"]["checkpoint"], vkey)
        time = verify_cosignature(body, signatures, parse_vkey(manifest["witness"]["vkey"], 0x04))
        checked.append(f"cosignature at {time} on size {cosigned_size}")
    print("ok " + ", ".join(checked))


main()
