namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>
/// What an action sees of its transaction and block (Kwil's `@caller`, `@signer`, `@authenticator`, `@txid`,
/// `@height`, `@block_timestamp` in unix seconds): never the local clock, so every validator computes the same
/// result. The caller is an EIP-55 address for Ethereum signers and lowercase hex for ed25519 keys; IsOwner says
/// whether it holds the network's owner role (genesis), which OWNER actions require.
/// </summary>
public sealed record ActionContext(string Caller, byte[] Signer, string Authenticator, string TransactionId, long Height, long BlockTimestamp, bool IsOwner);
