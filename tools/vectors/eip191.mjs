// EIP-191 personal_sign vectors from ethers (an implementation independent of ours), for Engine.Tests.
// Regenerate: npm ci && npm run eip191. Keys are fixed so the file is reproducible.
import { Wallet, Signature, hashMessage, SigningKey, getBytes, hexlify, toUtf8Bytes } from "ethers";

const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
const keys = ["0x" + "11".repeat(32), "0x" + "22".repeat(32), "0x" + "7f".repeat(32), "0x" + "01".padStart(64, "0")];
const messages = [
  "Share a credential with creating AG\n\nPayloadType: execute\nPayloadDigest: d2b9e8769b41d1b8ce552057d448d5abe7c0af17\nFee: 0\nNonce: 2\n\nKwil Chain ID: idos-capture-test\n",
  "",
  "ünïcödé ✓",
  "x".repeat(300),
];

const vectors = [];
for (const key of keys) {
  const wallet = new Wallet(key);
  for (const message of messages) {
    const signature = Signature.from(wallet.signMessageSync(message));
    const s = BigInt(signature.s);
    const highS = "0x" + (n - s).toString(16).padStart(64, "0");
    const flippedV = signature.v === 27 ? 28 : 27;
    vectors.push({
      privateKey: key,
      address: wallet.address,
      message: hexlify(toUtf8Bytes(message)),
      digest: hashMessage(message),
      signature: signature.serialized,
      // The same signature with s replaced by n - s (and v flipped): recovers the same key, but is malleated.
      malleatedSignature: signature.r + highS.slice(2) + flippedV.toString(16),
      recoveredPublicKey: SigningKey.recoverPublicKey(hashMessage(message), signature),
    });
  }
}
console.log(JSON.stringify({ generator: "ethers " + (await import("ethers")).version, vectors }, null, 2));
