using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Services;

namespace IdOS.Akka.Engine.Rpc.Explorer;

/// <summary>
/// The JSON-RPC methods the explorer page reads the chain with: `explorer.blocks` (the latest, or those below a
/// height), `explorer.block` (one block and its transactions with their results), `explorer.tx` (a transaction by
/// hash) and `explorer.validators` (the set and each validator's last certified vote). Transactions appear as their
/// action's name and size, never their arguments or sender. The head's block list and the validators are read once for
/// all pages polling them within <see cref="SharedFor"/>, so a crowd of open explorers costs the validators one read.
/// </summary>
public sealed class ExplorerService(IExplorerGateway explorer, INodeGateway gateway, TimeProvider time)
{
    public const int DefaultBlocks = 20;
    public const int DefaultTransactions = 100;
    public static readonly TimeSpan SharedFor = TimeSpan.FromMilliseconds(500);

    private readonly SharedRead<ExplorerBlocks> _head = new(SharedFor, time);
    private readonly SharedRead<ExplorerValidators> _validators = new(SharedFor * 4, time);

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["explorer.blocks"] = Blocks,
        ["explorer.block"] = Block,
        ["explorer.tx"] = Transaction,
        ["explorer.validators"] = Validators,
    };

    private async Task<JsonNode> Blocks(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var below = JsonParams.OptionalInteger(parameters, "before", 2, long.MaxValue);
        var count = (int)(JsonParams.OptionalInteger(parameters, "count", 1, ExplorerLimits.MaxBlocks) ?? DefaultBlocks);
        var blocks = below is null && count == DefaultBlocks
            ? await _head.Get(() => explorer.RecentBlocks(0, DefaultBlocks, CancellationToken.None)).WaitAsync(cancel)
            : await explorer.RecentBlocks(below is { } before ? before - 1 : 0, count, cancel);
        return new JsonObject
        {
            ["height"] = blocks.Height,
            ["executed_height"] = blocks.ExecutedHeight,
            ["now_ms"] = time.GetUtcNow().ToUnixTimeMilliseconds(),
            ["blocks"] = new JsonArray([.. blocks.Blocks.Select(Render)]),
        };
    }

    private async Task<JsonNode> Block(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var height = JsonParams.OptionalInteger(parameters, "height", 1, long.MaxValue) ?? throw RpcException.InvalidParams("height (an integer from 1) is required");
        var offset = (int)(JsonParams.OptionalInteger(parameters, "offset", 0, int.MaxValue) ?? 0);
        var limit = (int)(JsonParams.OptionalInteger(parameters, "limit", 1, ExplorerLimits.MaxTransactions) ?? DefaultTransactions);
        var page = await explorer.Block(height, offset, limit, cancel);
        if (page.Block is not { } block)
        {
            throw new RpcException(ExplorerLimits.BlockNotFound, $"height {height} is not committed (the committed height is {page.Height})");
        }

        return new JsonObject
        {
            ["height"] = page.Height,
            ["executed_height"] = page.ExecutedHeight,
            ["block"] = Render(block),
            ["offset"] = offset,
            ["transactions"] = new JsonArray([.. page.Transactions.Select(t => Render(t.Hash, t.Action, t.Bytes, t.Code))]),
        };
    }

    private async Task<JsonNode> Transaction(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty("hash", out var hashElement) || hashElement.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams("hash (64 hex digits) is required");
        }

        var hash = TransactionJson.Hex(hashElement.GetString()!, "hash");
        if (hash.Length != 32)
        {
            throw RpcException.InvalidParams("hash is 32 bytes of hex");
        }

        var hex = Convert.ToHexStringLower(hash);
        var executed = await gateway.Executed(hash, cancel)
            ?? throw new RpcException(RpcErrorCode.TransactionNotFound, $"transaction {hex} is not committed, or not executed yet");
        var answer = Render(hex, executed.Transaction is { } bytes ? TransactionLabel.Of(bytes) : null, executed.Transaction?.Length, executed.Code);
        answer["height"] = executed.Height;
        return answer;
    }

    private async Task<JsonNode> Validators(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var validators = await _validators.Get(() => explorer.Validators(CancellationToken.None)).WaitAsync(cancel);
        return new JsonObject
        {
            ["height"] = validators.Height,
            ["epoch"] = validators.Epoch,
            ["validators"] = new JsonArray([.. validators.Validators.Select(v => (JsonNode)new JsonObject
            {
                ["index"] = v.Index,
                ["key"] = v.Key,
                ["last_vote_height"] = v.LastVoteHeight,
                ["last_vote_time"] = v.LastVoteTimeMs,
            })]),
        };
    }

    private static JsonNode Render(ExplorerBlock block) => new JsonObject
    {
        ["height"] = block.Height,
        ["id"] = block.Id,
        ["round"] = block.Round,
        ["time"] = block.TimeMs,
        ["epoch"] = block.Epoch,
        ["proposer"] = block.Proposer is { } proposer ? Render(proposer) : null,
        ["tx_count"] = block.TransactionCount,
        ["bytes"] = block.BodyBytes,
        ["signers"] = new JsonArray([.. block.Signers.Select(Render)]),
    };

    private static JsonNode Render(ValidatorRef validator) => new JsonObject { ["index"] = validator.Index, ["key"] = validator.Key };

    private static JsonObject Render(string hash, string? action, int? bytes, int? code) => new()
    {
        ["hash"] = hash,
        ["action"] = action,
        ["bytes"] = bytes,
        ["code"] = code,
        ["result"] = code is { } executed ? TxCode.Name(executed) : null,
    };
}

/// <summary>The bounds of the explorer's methods, the same as the node's answers hold.</summary>
public static class ExplorerLimits
{
    public const int MaxBlocks = 50;
    public const int MaxTransactions = 500;

    /// <summary>`explorer.block` for a height that is not committed.</summary>
    public const int BlockNotFound = -32004;
}

/// <summary>
/// One read shared by every caller within its lifetime: callers that arrive while it runs or soon after get the same
/// answer; a failed read is not kept.
/// </summary>
internal sealed class SharedRead<T>(TimeSpan lifetime, TimeProvider time)
{
    private readonly Lock _gate = new();
    private Task<T>? _current;
    private long _startedAt;

    public Task<T> Get(Func<Task<T>> read)
    {
        lock (_gate)
        {
            if (_current is { IsFaulted: false, IsCanceled: false } current && time.GetElapsedTime(_startedAt) < lifetime)
            {
                return current;
            }

            _startedAt = time.GetTimestamp();
            _current = read();
            return _current;
        }
    }
}
