// The idOS client library's scenarios against our RPC, as an integrator's app runs them: connect as the SDK does
// (health, then the chain id), onboard a user through an ed25519 inserter, let the user (an EVM wallet, EIP-191) add
// a wallet, an attribute and a credential, write an attribute and a credential for the user as the ed25519 inserter
// too, read everything back as the user through the KGW login the client does on the node's -901, share the
// credential with a timelocked grant and read it as the grantee, find the early revocation refused, query every
// transaction's result, and read once more through a node in private mode (a signed challenge per call).
// Usage: node idos-scenarios.mjs <kgw-mode rpc url> <private-mode rpc url> <owner ed25519 seed hex>.
// Prints one JSON line; exits non-zero on any failure.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import kwiljs from "@idos-network/kwil-js";
import { Wallet } from "ethers";

const { NodeKwil, KwilSigner, Utils } = kwiljs;
const { DataType } = Utils;
const [provider, privateProvider, ownerSeedHex] = process.argv.slice(2);

// ed25519 as node's crypto holds it: a raw seed wrapped in PKCS#8; the public key is the last 32 bytes of its SPKI.
const ed25519FromSeed = (seedHex) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seedHex, "hex")]), format: "der", type: "pkcs8" });
const publicHex = (key) => createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
const ed25519Signer = (key) => new KwilSigner(async (message) => new Uint8Array(sign(null, Buffer.from(message), key)), publicHex(key), "ed25519");
const fresh = () => generateKeyPairSync("ed25519").privateKey;

const owner = ed25519Signer(ed25519FromSeed(ownerSeedHex));
const inserterKey = fresh();
const inserter = ed25519Signer(inserterKey);
const issuerKey = fresh();
const issuerHex = publicHex(issuerKey);
const userWallet = Wallet.createRandom();
const user = new KwilSigner(userWallet, userWallet.address);
const secondWallet = Wallet.createRandom();
const granteeWallet = Wallet.createRandom();
const grantee = new KwilSigner(granteeWallet, granteeWallet.address);

const probe = new NodeKwil({ kwilProvider: provider, chainId: "" });
const ping = (await probe.ping()).data;
const chainId = (await probe.chainInfo()).data.chain_id;
const kwil = new NodeKwil({ kwilProvider: provider, chainId, timeout: 30000 });
// Each reader gets its own client, as each browser has its own cookie jar: a KGW session belongs to one wallet.
const readerFor = () => new NodeKwil({ kwilProvider: provider, chainId, timeout: 30000 });

const hashes = {};
const execute = async (label, signer, name, inputs, types) => {
  const answer = await kwil.execute({ namespace: "main", name, inputs: [inputs], types }, signer, true);
  hashes[label] = answer.data.tx_hash;
  return answer.data;
};
// A synchronous broadcast whose transaction fails makes the client throw with the result it got; the hash is in it,
// as the node sent it. The client's own hashes went through its base64ToHex quirk, which
// txInfo undoes, so this one is put through the same step.
const executeRefused = async (label, signer, name, inputs, types) => {
  try {
    await kwil.execute({ namespace: "main", name, inputs: [inputs], types }, signer, true);
  } catch (error) {
    const refusal = JSON.parse(error.message);
    hashes[label] = Buffer.from(refusal.tx_hash, "base64").toString("hex");
    return refusal.result;
  }
  throw new Error(`${name} was expected to fail`);
};
const call = async (client, signer, name, inputs = [], types = []) =>
  (await client.call({ namespace: "main", name, inputs, types }, signer)).data.result ?? [];

// The proofs the schema checks: a wallet signs a text naming itself; an issuer signs a credential's notes, then
// that signature followed by the decoded content.
const walletProof = async (wallet) => {
  const message = `Sign this message to add wallet ${wallet.address} to idOS`;
  return [wallet.address, null, "EVM", message, await wallet.signMessage(message)];
};
const signed = (content, notes) => {
  const notesSignature = sign(null, Buffer.from(notes), issuerKey);
  const broader = sign(null, Buffer.concat([notesSignature, Buffer.from(content, "base64")]), issuerKey);
  return [content, notes, notesSignature.toString("base64"), broader.toString("base64")];
};
const content = () => randomBytes(30).toString("base64");

const inserterId = randomUUID();
const userId = randomUUID();
await execute("addInserter", owner, "add_inserter_as_owner", [inserterId, `js-${inserterId.slice(0, 8)}`], [DataType.Uuid, DataType.Text]);
await execute("addDelegate", owner, "add_delegate_as_owner", [publicHex(inserterKey), inserterId], [DataType.Text, DataType.Uuid]);
await execute("addUser", inserter, "add_user_as_inserter", [userId, "user-encryption-key", "user"], [DataType.Uuid, DataType.Text, DataType.Text]);
await execute("userWallet", inserter, "upsert_wallet_as_inserter", [randomUUID(), userId, ...(await walletProof(userWallet))],
  [DataType.Uuid, DataType.Uuid, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text]);

// Writes signed by the user's EVM wallet (EIP-191).
await execute("addWallet", user, "add_wallet", [randomUUID(), ...(await walletProof(secondWallet))],
  [DataType.Uuid, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text]);
await execute("evmAttribute", user, "add_attribute", [randomUUID(), "nickname", "alice"], [DataType.Uuid, DataType.Text, DataType.Text]);
const credentialId = randomUUID();
const credentialContent = content();
await execute("evmCredential", user, "add_credential", [credentialId, issuerHex, "encryptor-key", ...signed(credentialContent, '{"type":"kyc"}')],
  [DataType.Uuid, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text]);

// Writes signed by the ed25519 inserter, for the same user.
await execute("ed25519Attribute", inserter, "add_attribute_as_inserter", [randomUUID(), userId, "country", "PT"],
  [DataType.Uuid, DataType.Uuid, DataType.Text, DataType.Text]);
await execute("ed25519Credential", inserter, "upsert_credential_as_inserter",
  [randomUUID(), userId, issuerHex, "encryptor-key", ...signed(content(), '{"type":"proof-of-address"}')],
  [DataType.Uuid, DataType.Uuid, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text]);

// Reads as the user: the client answers the node's -901 with a KGW login signed by the wallet, then replays.
const asUser = readerFor();
const wallets = await call(asUser, user, "get_wallets");
const attributes = await call(asUser, user, "get_attributes");
const credentials = await call(asUser, user, "get_credentials");
const anonymousCredentials = await call(readerFor(), undefined, "get_credentials");

// A copy for the grantee, locked for an hour: readable by the grantee, not revocable by the user before then.
const copyId = randomUUID();
const copyContent = content();
const lockedUntil = Math.floor(Date.now() / 1000) + 3600;
await execute("share", user, "share_credential",
  [copyId, credentialId, ...signed(copyContent, "").slice(1, 4), copyContent, createHash("sha256").update(copyContent).digest("hex"), "encryptor-key",
    issuerHex, granteeWallet.address, lockedUntil],
  [DataType.Uuid, DataType.Uuid, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Text, DataType.Int]);
const asGrantee = readerFor();
const grants = await call(asGrantee, grantee, "get_access_grants_granted", [null, 1, 10], [DataType.Uuid, DataType.Int, DataType.Int]);
const shared = await call(asGrantee, grantee, "get_credential_shared", [copyId], [DataType.Uuid]);
const otherWallet = Wallet.createRandom();
const notShared = await call(readerFor(), new KwilSigner(otherWallet, otherWallet.address), "get_credential_shared", [copyId], [DataType.Uuid]);
const grantId = grants.find((g) => g.data_id === copyId)?.id;
await executeRefused("earlyRevoke", user, "revoke_access_grant", [grantId], [DataType.Uuid]);

// Every transaction's result, as an app checks them after the fact.
const results = {};
for (const [label, hash] of Object.entries(hashes)) {
  const info = (await kwil.txInfo(hash)).data;
  results[label] = { code: info.tx_result.code, log: info.tx_result.log, height: Number(info.height) };
}

// The same reads through a node in private mode: the client asks for a challenge and signs each call.
const privateKwil = new NodeKwil({ kwilProvider: privateProvider, chainId, timeout: 30000 });
const privatePing = (await privateKwil.ping()).data;
const privateAttributes = await call(privateKwil, user, "get_attributes");
const privateAsInserter = await call(privateKwil, inserter, "get_user_as_inserter", [userId], [DataType.Uuid]);

console.log(JSON.stringify({
  chainId, ping, userId, credentialId, credentialContent, copyId, copyContent, lockedUntil, grantee: granteeWallet.address,
  wallets, attributes, credentials, anonymousCredentials, grants, shared, notShared, results, privatePing, privateAttributes, privateAsInserter,
}));
