using IdOS.Akka.Engine.Kwil.Catalog;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Kwil.Reads;

/// <summary>
/// Who asks: the identity a read runs as (Kwil's `@caller`), or nobody. The RPC layer sets a caller only after the
/// client proved control of it (a session or a signed call); an anonymous read sees no user's private rows.
/// </summary>
public sealed record ReadCaller(string Caller, byte[] Signer, string Authenticator)
{
    public static ReadCaller? Anonymous => null;
}

/// <summary>A VIEW action to run against committed state.</summary>
public sealed record ViewRequest(ReadCaller? Caller, string Action, IReadOnlyList<KwilValue> Arguments, string Namespace = ActionCatalog.Namespace);

/// <summary>A view's rows, or the stable code (100 + <see cref="ActionError"/>) and message it was refused with.</summary>
public sealed record ViewResult(ActionOutcome? Outcome, int Code, string Error);

/// <summary>
/// Every answer of a batch, read from one state version: the one after <see cref="Height"/>. Empty, with
/// <see cref="Behind"/> set, when the state has not yet reached the height the batch asked for.
/// </summary>
public sealed record ReadBatchResult(long Height, IReadOnlyList<ViewResult> Results, IReadOnlyList<long> NextNonces, bool Behind = false);

/// <summary>An account as Kwil keys it: the signer's identifier and its key type (secp256k1 or ed25519).</summary>
public sealed record AccountKey(byte[] Identifier, string KeyType);
