// The idOS client library's write path against our RPC: connect as the SDK does (learn the chain id first), then
// execute idOS actions synchronously as an ed25519 owner and as an EVM inserter, and read a transaction back.
// Usage: node write-path.mjs <rpc base url> <owner ed25519 seed hex>. Prints one JSON line; exits non-zero on failure.
import { createPrivateKey, createPublicKey, randomUUID, sign } from "node:crypto";
import kwiljs from "@idos-network/kwil-js";
import { Wallet } from "ethers";

const { NodeKwil, KwilSigner, Utils } = kwiljs;
const [provider, ownerSeedHex] = process.argv.slice(2);

// An ed25519 key from its raw seed: the PKCS#8 wrapping node's crypto expects.
const ownerKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(ownerSeedHex, "hex")]), format: "der", type: "pkcs8" });
const ownerPublic = createPublicKey(ownerKey).export({ format: "der", type: "spki" }).subarray(-32);
const owner = new KwilSigner(async (message) => new Uint8Array(sign(null, Buffer.from(message), ownerKey)), ownerPublic.toString("hex"), "ed25519");

const probe = new NodeKwil({ kwilProvider: provider, chainId: "" });
const chainId = (await probe.chainInfo()).data.chain_id;
const kwil = new NodeKwil({ kwilProvider: provider, chainId, timeout: 30000 });

const wallet = Wallet.createRandom();
const issuer = new KwilSigner(wallet, wallet.address);
const { DataType } = Utils;
const run = (signer, name, inputs, types) => kwil.execute({ namespace: "main", name, inputs: [inputs], types }, signer, true);

const inserter = randomUUID();
const user = randomUUID();
const results = {};
results.addInserter = (await run(owner, "add_inserter_as_owner", [inserter, `js-${inserter.slice(0, 8)}`], [DataType.Uuid, DataType.Text])).data;
results.addDelegate = (await run(owner, "add_delegate_as_owner", [wallet.address, inserter], [DataType.Text, DataType.Uuid])).data;
results.addUser = (await run(issuer, "add_user_as_inserter", [user, "recipient-key", "user"], [DataType.Uuid, DataType.Text, DataType.Text])).data;
const info = (await kwil.txInfo(results.addUser.tx_hash)).data;

// Reads: anonymous, then as the inserter, which the client does by answering the node's -901 with a KGW login.
const profile = (await kwil.call({ namespace: "main", name: "has_profile", inputs: ["0x0000000000000000000000000000000000000001"], types: [DataType.Text] })).data.result;
const asInserter = (await kwil.call({ namespace: "main", name: "get_user_as_inserter", inputs: [user], types: [DataType.Uuid] }, issuer)).data.result;
console.log(JSON.stringify({ chainId, user, txHeight: info.height, txCode: info.tx_result.code, hashes: Object.values(results).map((r) => r.tx_hash), profile, asInserter }));
