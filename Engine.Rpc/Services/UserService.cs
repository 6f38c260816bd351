using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Rpc.Verification;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// How long `user.broadcast` with sync=1 waits for the commit, and how often the waiting broadcasts ask about
/// everything they wait for when no execution feed told them sooner (<see cref="ExecutionWaiter"/>); and the largest
/// transaction taken (the validators' max-transaction-bytes, so that what they would refuse is refused here,
/// before any work).
/// </summary>
public sealed record BroadcastSettings(TimeSpan CommitTimeout, TimeSpan PollInterval, int MaxTransactionBytes = 1 << 20)
{
    public static BroadcastSettings Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
}

/// <summary>
/// Kwil's "user" service for the idOS client's write path: chain info, health, ping,
/// accounts with pending nonces, price estimates, broadcasts (accepted, or waited for until executed) and
/// transaction queries. A transaction is checked here before any mempool sees it — encoding, chain, signature,
/// `execute`, nonce — and a refusal is error -201 with kwild's TxCode in its data. Signatures are checked in the
/// verifier pool, nonces read through the read batcher.
/// </summary>
public sealed class UserService(INodeGateway gateway, VerifierPool verifiers, ReadBatcher reads, PendingNonces pending, BroadcastSettings settings,
    bool privateMode = false, ExecutionWaiter? executions = null)
{
    public const string ApiVersion = "0.3.0";
    private readonly ExecutionWaiter _executions = executions ?? new(gateway, settings.PollInterval);
    private string? _chainId;
    private const int TxUnknown = 65535;
    private const int TxCommitTimeout = 10;
    private const int TxMempoolFull = 11;

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["user.ping"] = (_, _, _) => Task.FromResult<JsonNode>(new JsonObject { ["message"] = "pong" }),
        ["user.chain_info"] = ChainInfo,
        ["user.health"] = Health,
        ["user.account"] = Account,
        ["user.estimate_price"] = EstimatePrice,
        ["user.broadcast"] = Broadcast,
        ["user.tx_query"] = TransactionQuery,
    };

    private async Task<JsonNode> ChainInfo(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var chain = await gateway.Chain(cancel);
        return new JsonObject { ["chain_id"] = chain.ChainId, ["block_height"] = chain.Height, ["block_hash"] = chain.BlockHash, ["gas"] = false };
    }

    private async Task<JsonNode> Health(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var chain = await gateway.Chain(cancel);
        return new JsonObject
        {
            ["chain_id"] = chain.ChainId,
            ["block_height"] = chain.Height,
            ["block_hash"] = chain.BlockHash,
            ["gas"] = false,
            ["healthy"] = chain.Unhealthy.Length == 0,
            ["version"] = ApiVersion,
            ["block_time"] = chain.BlockTimeMs,
            ["block_age"] = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - chain.BlockTimeMs),
            ["syncing"] = chain.Syncing,
            ["height"] = chain.Height,
            ["app_hash"] = chain.AppHash,
            ["peer_count"] = chain.PeerCount,
            ["mode"] = privateMode ? "private" : "open",
            ["network_height"] = chain.NetworkHeight,
            ["reason"] = chain.Unhealthy,
        };
    }

    private async Task<JsonNode> Account(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        if (!parameters.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Object
            || !id.TryGetProperty("identifier", out var identifierElement) || identifierElement.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams("id.identifier (hex) is required");
        }

        // Users pass addresses as they see them (0x, mixed case); the SDK passes clean hex.
        var identifier = TransactionJson.Hex(identifierElement.GetString()!, "id.identifier");
        var keyType = id.TryGetProperty("key_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : KeyTypeFor(identifier);
        var next = await reads.NextNonce(identifier, keyType, cancel);
        var withPending = JsonParams.OptionalInteger(parameters, "status", 0, 1) == 1;
        // Kwil's account answer carries the last nonce used, the one place a nonce is not the next one.
        var nonce = (withPending ? pending.Next(identifier, keyType, next) : next) - 1;
        var answer = new JsonObject { ["balance"] = "0", ["nonce"] = nonce };
        if (nonce != 0)
        {
            answer["id"] = new JsonObject { ["identifier"] = Convert.ToHexStringLower(identifier), ["key_type"] = keyType };
        }

        return answer;
    }

    private Task<JsonNode> EstimatePrice(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        TransactionJson.Parse(RequiredObject(parameters, "tx"), requireSignature: false);
        return Task.FromResult<JsonNode>(new JsonObject { ["price"] = "0" });
    }

    private async Task<JsonNode> Broadcast(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var waitForCommit = JsonParams.OptionalInteger(parameters, "sync", 0, 2) == 1;
        var transaction = TransactionJson.Parse(RequiredObject(parameters, "tx"), requireSignature: true);
        byte[] bytes;
        try
        {
            bytes = transaction.ToBytes();
        }
        catch (KwilFormatException e)
        {
            throw Refused(TxCode.Encoding, [], e.Message);
        }

        var hash = SHA256.HashData(bytes);
        if (bytes.Length > settings.MaxTransactionBytes)
        {
            throw Refused(TxCode.Encoding, hash, $"the transaction is {bytes.Length} bytes; at most {settings.MaxTransactionBytes} are taken");
        }

        var chainId = await ChainId(cancel);
        var admission = await verifiers.Transaction(transaction, chainId, cancel);
        if (!admission.IsAdmitted)
        {
            throw Refused(admission.Code, hash, admission.Log);
        }

        if (TransactionGate.PayloadRefusal(transaction) is { } refusal)
        {
            throw Refused(refusal.Code, hash, refusal.Reason);
        }

        var keyType = KwilAuthenticator.AccountKeyType(transaction.Signature!.Type);
        var signer = admission.Signer!;
        var expected = pending.Next(signer, keyType, await reads.NextNonce(signer, keyType, cancel));
        if (transaction.Body.Nonce != (ulong)expected)
        {
            throw Refused(TxCode.InvalidNonce, hash, $"nonce {transaction.Body.Nonce}; the account's next nonce is {expected}");
        }

        var verdict = await gateway.Submit(bytes, cancel);
        if (verdict.Status == SubmitStatus.Refused)
        {
            var full = verdict.Reason?.Contains("full", StringComparison.OrdinalIgnoreCase) == true;
            throw Refused(full ? TxMempoolFull : TxUnknown, hash, verdict.Reason ?? "the mempool refused the transaction");
        }

        pending.Admitted(signer, keyType, expected);
        var answer = new JsonObject { ["tx_hash"] = Convert.ToHexStringLower(hash) };
        if (waitForCommit)
        {
            var executed = await _executions.WaitFor(hash, settings.CommitTimeout, cancel)
                ?? throw Refused(TxCommitTimeout, hash, $"not executed within {settings.CommitTimeout.TotalSeconds:0} s; query it with user.tx_query");
            answer["result"] = Result(executed.Code, executed.Log);
        }

        return answer;
    }

    private async Task<JsonNode> TransactionQuery(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        if (!parameters.TryGetProperty("tx_hash", out var hashElement) || hashElement.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams("tx_hash (hex) is required");
        }

        var hash = TransactionJson.Hex(hashElement.GetString()!, "tx_hash");
        if (hash.Length != 32)
        {
            throw RpcException.InvalidParams("tx_hash is 32 bytes of hex");
        }

        var executed = await gateway.Executed(hash, cancel) ?? throw new RpcException(RpcErrorCode.TransactionNotFound, "transaction not found");
        if (executed.Transaction is null)
        {
            throw new RpcException(RpcErrorCode.TransactionNotFound,
                $"transaction {Convert.ToHexStringLower(hash)} was executed at height {executed.Height}, but its block body is past this network's retention window");
        }

        var answer = new JsonObject { ["tx_hash"] = Convert.ToHexStringLower(hash), ["height"] = executed.Height };
        if (KwilTransaction.TryFromBytes(executed.Transaction, out var transaction, out _))
        {
            answer["tx"] = Private(TransactionJson.Render(transaction));
        }
        else
        {
            // A block may carry bytes that are no Kwil transaction (they executed as a failure with the reason in the
            // result): shown as they are, since no transaction object can be made of them.
            answer["tx"] = null;
            answer["tx_bytes"] = privateMode ? "" : Convert.ToBase64String(executed.Transaction);
        }

        answer["tx_result"] = Result(executed.Code, executed.Log);
        return answer;
    }

    /// <summary>
    /// In private mode a transaction's payload (a user's encrypted data, grants) is not shown to whoever knows its
    /// hash, as kwild leaves it out; the rest stays, because the client reads the object and fails without it.
    /// </summary>
    private JsonObject Private(JsonObject transaction)
    {
        if (privateMode && transaction["body"] is JsonObject body)
        {
            body["payload"] = "";
        }

        return transaction;
    }

    /// <summary>A chain id never changes, so a broadcast asks a validator for it once, not every time.</summary>
    private async Task<string> ChainId(CancellationToken cancel) => _chainId ??= (await gateway.Chain(cancel)).ChainId;

    private static JsonObject Result(int code, string log) => new() { ["code"] = code, ["gas"] = 0, ["log"] = log };

    private static JsonElement RequiredObject(JsonElement parameters, string name) =>
        parameters.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : throw RpcException.InvalidParams($"{name} must be an object");

    /// <summary>The client's own rule when it names no key type: 20 bytes are an Ethereum address, the rest ed25519.</summary>
    private static string KeyTypeFor(byte[] identifier) => identifier.Length == Eip191.AddressSize ? "secp256k1" : "ed25519";

    private static RpcException Refused(int code, byte[] hash, string message) =>
        new(RpcErrorCode.BroadcastFailed, "broadcast error",
            new JsonObject { ["code"] = code, ["hash"] = Convert.ToHexStringLower(hash), ["message"] = message });
}
