using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// The idOS workload: users whose EVM wallets an inserter registered beforehand send signed writes the way the idOS
/// client does — `user.broadcast` with sync=1 to the RPC system, which checks signature and nonce, hands the
/// transaction to a validator and answers once it has executed. Each user has one write in flight and alternates
/// add_attribute and add_credential, each carrying 1 KiB of random bytes in base64 (as ciphertext is); users sign as
/// they go, as wallets do. Latency is the broadcast's round trip: verification, consensus and execution.
/// </summary>
internal sealed class IdosBroadcastLoad : IClusterLoad
{
    private const int Delegates = 16;
    private const int CiphertextBytes = 768; // 1,024 characters of base64
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<HttpClient> _http = [];
    private readonly List<Task> _users = [];
    private readonly Ed25519PrivateKey _issuer;

    private IdosBroadcastLoad(IReadOnlyList<ClientStats> stats, Ed25519PrivateKey issuer)
    {
        Stats = stats;
        _issuer = issuer;
    }

    public IReadOnlyList<ClientStats> Stats { get; }

    /// <summary>Registers the users through the validators (not measured), then starts them against the RPC system.</summary>
    public static async Task<IdosBroadcastLoad> Start(NodeClient client, BenchNetwork network, ClusterSettings settings, MeasurementWindow window)
    {
        ArgumentNullException.ThrowIfNull(network);
        var endpoint = network.RpcEndpoint ?? throw new InvalidOperationException("the idOS workload needs the RPC system started");
        List<BenchUser> users;
        try
        {
            users = await Register(client, network, settings.TotalOutstanding);
        }
        catch (Exception e) when (e is global::Akka.Actor.AskTimeoutException or TimeoutException or ScenarioFailedException)
        {
            throw new InvalidOperationException($"registering the {settings.TotalOutstanding} idOS users through the validators failed: {e.Message}", e);
        }

        var load = new IdosBroadcastLoad([.. Enumerable.Range(0, settings.Clients).Select(_ => new ClientStats())], Ed25519PrivateKey.GenerateExportable());
        for (var c = 0; c < settings.Clients; c++)
        {
            // HTTP/1.1 carries one request at a time per connection: a connection for each of the client's users.
            var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Outstanding, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            load._http.Add(http);
            foreach (var user in users.Skip(c * settings.Outstanding).Take(settings.Outstanding))
            {
                var stats = load.Stats[c];
                load._users.Add(Task.Run(() => load.RunUser(user, http, endpoint, network.ChainId, window, stats)));
            }
        }

        return load;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_users);
        _http.ForEach(h => h.Dispose());
        _stop.Dispose();
        _issuer.Dispose();
    }

    private sealed record BenchUser(EvmKey Wallet, KwilSigner Signer);

    /// <summary>
    /// The owner registers an inserter with <see cref="Delegates"/> delegate keys; the delegates create the users and
    /// add each user's wallet (with the wallet's own EIP-191 proof), every write waited for until it executed.
    /// </summary>
    private static async Task<List<BenchUser>> Register(NodeClient client, BenchNetwork network, int count)
    {
        using var ownerKey = KeyFiles.ReadPrivate(network.OwnerKeyFile);
        var owner = KwilSigner.ForEd25519(ownerKey.PublicKey.Bytes, message => ownerKey.Sign(message));
        var delegateKeys = Enumerable.Range(0, Delegates).Select(_ => Ed25519PrivateKey.GenerateExportable()).ToList();
        try
        {
            var delegates = delegateKeys.Select(key => KwilSigner.ForEd25519(key.PublicKey.Bytes, message => key.Sign(message))).ToList();
            var inserter = Guid.NewGuid();
            List<(string, KwilValue[])> registration = [("add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("bench-issuer")])];
            registration.AddRange(delegates.Select(d => ("add_delegate_as_owner", new[] { KwilValue.OfText(d.Caller), KwilValue.OfUuid(inserter) })));
            await new TransactionDriver(client, network.Addresses, network.ChainId).RunAllOk(owner, registration, SetupTimeout);

            var users = Enumerable.Range(0, count).Select(_ => EvmKey.Generate()).Select(wallet => new BenchUser(wallet, KwilSigner.ForEvm(wallet))).ToList();
            // One driver per delegate: each keeps its own signer's nonces, so the delegates' writes go out side by side.
            await Task.WhenAll(delegates.Select((signer, d) =>
            {
                var calls = users.Where((_, i) => i % Delegates == d).SelectMany(user => UserRegistration(user.Wallet)).ToList();
                return calls.Count == 0 ? Task.CompletedTask : new TransactionDriver(client, network.Addresses, network.ChainId).RunAllOk(signer, calls, SetupTimeout);
            }));
            return users;
        }
        finally
        {
            delegateKeys.ForEach(k => k.Dispose());
        }
    }

    private static IEnumerable<(string Action, KwilValue[] Arguments)> UserRegistration(EvmKey wallet)
    {
        var userId = Guid.NewGuid();
        yield return ("add_user_as_inserter", [KwilValue.OfUuid(userId), KwilValue.OfText("user-encryption-key"), KwilValue.OfText("user")]);
        yield return ("upsert_wallet_as_inserter", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfUuid(userId), .. IdosFlow.WalletProof(wallet)]);
    }

    /// <summary>One user: a signed write, its broadcast, its answer after execution, the next write.</summary>
    private async Task RunUser(BenchUser user, HttpClient http, Uri endpoint, string chainId, MeasurementWindow window, ClientStats stats)
    {
        var cancel = _stop.Token;
        try
        {
            for (ulong nonce = 1; !cancel.IsCancellationRequested; nonce++)
            {
                var body = Encoding.UTF8.GetBytes(BroadcastRequest(SignedWrite(user, chainId, nonce)));
                var started = Stopwatch.GetTimestamp();
                while (true)
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync(endpoint, content, cancel);
                    var outcome = Outcome(await response.Content.ReadAsStringAsync(cancel));
                    if (outcome.Retry)
                    {
                        stats.Refusal(1, outcome.Reason!);
                        await Task.Delay(RetryPause, cancel);
                        continue;
                    }

                    if (outcome.Reason is not null)
                    {
                        stats.Refusal(1, outcome.Reason);
                    }
                    else if (window.IsOpen)
                    {
                        stats.Committed((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds, window.FaultPhaseOf(started, Stopwatch.GetTimestamp()));
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or JsonException)
        {
            stats.Fail($"user {user.Signer.Caller}: {e.Message}");
        }
    }

    /// <summary>add_attribute and add_credential in turn, with fresh ids and fresh 1 KiB ciphertext.</summary>
    private byte[] SignedWrite(BenchUser user, string chainId, ulong nonce)
    {
        var ciphertext = Convert.ToBase64String(RandomNumberGenerator.GetBytes(CiphertextBytes));
        return nonce % 2 == 1
            ? user.Signer.Execute(chainId, nonce, "add_attribute", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("bench-attribute"), KwilValue.OfText(ciphertext)])
            : user.Signer.Execute(chainId, nonce, "add_credential",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText(_issuer.PublicKey.ToString()), KwilValue.OfText("encryptor-key"), .. IdosFlow.SignedContent(_issuer, ciphertext, "")]);
    }

    private static string BroadcastRequest(byte[] transaction) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = 1,
        ["method"] = "user.broadcast",
        ["params"] = new JsonObject { ["tx"] = TransactionJson.Render(KwilTransaction.FromBytes(transaction)), ["sync"] = 1 },
    }.ToJsonString();

    /// <summary>
    /// What an answer means for the user: executed with code 0 (no reason); a refusal to wait out and send again (a
    /// full mempool, the rate limit); or a reason to count — a failed execution or a commit wait that ran out, after
    /// which the nonce is spent and the user goes on. Anything else stops the run: a refused nonce or signature is the
    /// benchmark's own fault, and after an unavailable network it cannot tell whether the nonce was spent.
    /// </summary>
    private static (bool Retry, string? Reason) Outcome(string answer)
    {
        using var document = JsonDocument.Parse(answer);
        var root = document.RootElement;
        if (root.TryGetProperty("result", out var result))
        {
            var code = result.GetProperty("result").GetProperty("code").GetInt32();
            return code == 0 ? (false, null) : (false, string.Create(CultureInfo.InvariantCulture, $"executed with code {code}: {result.GetProperty("result").GetProperty("log")}"));
        }

        var error = root.GetProperty("error");
        var rpcCode = error.GetProperty("code").GetInt32();
        var txCode = error.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("code", out var c) ? c.GetInt32() : (int?)null;
        var detail = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("message", out var m) ? " " + m.GetString() : "";
        var reason = string.Create(CultureInfo.InvariantCulture, $"error {rpcCode}{(txCode is { } t ? $" (tx code {t})" : "")}: {error.GetProperty("message")}{detail}");
        return rpcCode switch
        {
            RpcErrorCode.RateLimited => (true, reason),
            RpcErrorCode.BroadcastFailed when txCode is TxMempoolFull => (true, reason),
            RpcErrorCode.BroadcastFailed when txCode is TxCommitTimeout => (false, reason),
            _ => throw new InvalidOperationException($"the RPC system refused a benchmark write: {reason}"),
        };
    }

    // kwild's TxCodes the RPC system reports in a broadcast error's data.
    private const int TxCommitTimeout = 10;
    private const int TxMempoolFull = 11;
}
