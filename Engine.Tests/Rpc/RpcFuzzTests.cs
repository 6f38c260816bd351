using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Rpc.Http;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// Seeded mutations of the requests the real idOS client sends (byte flips, truncation, type swaps, huge numbers, deep
/// nesting, invalid UTF-8 and lone surrogates, long strings) through the real HTTP endpoint of an RPC system in KGW
/// mode and one in private mode, validators faked: every answer is JSON-RPC 2.0 without an HTTP 5xx, and the servers
/// answer a ping afterwards. A failure names the seed and the case, which replay exactly.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RpcFuzzTests : IAsyncLifetime, IDisposable
{
    private const int Seed = 20261204;
    private const int Cases = 100_000;
    private const int MaxBody = 64 << 10;
    private const string TxHash = "8c5fd7d0d6e3e7a3b0f8a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2";
    private const string Sender = CapturedBroadcast.Sender;

    private static readonly string[] Requests =
    [
        Request("user.broadcast", $$"""{"tx":{{CapturedBroadcast.Json}},"sync":1}"""),
        Request("user.broadcast", $$"""{"tx":{{CapturedBroadcast.Json}}}"""),
        Request("user.estimate_price", $$"""{"tx":{{CapturedBroadcast.Json}}}"""),
        Request("user.account", $$"""{"id":{"identifier":"{{Sender}}","key_type":"secp256k1"},"status":1}"""),
        Request("user.tx_query", $$"""{"tx_hash":"{{TxHash}}"}"""),
        Request("user.call", $$"""{"body":{"payload":"AAAEAAAAbWFpbgwAAABnZXRfd2FsbGV0cwAAAAA=","challenge":"FUim1nmHYbP1RxJX7FDD8qrq7Ts3+IW36ObRPl1dwi4="},"auth_type":"secp256k1_ep","sender":"{{Sender}}","signature":"UA4t8x6I/4YXTU1AqR5zNcNMNnAWxwpAxdVoyDtEyzMkqeGvGZlfJpIlpFjH3aAXIJmiV0vFFEkjKKzeMGyycRs="}"""),
        Request("user.call", """{"body":{"payload":"AAAEAAAAbWFpbgwAAABnZXRfd2FsbGV0cwAAAAA="}}"""),
        Request("user.chain_info", "{}"),
        Request("user.health", "{}"),
        Request("user.ping", """{"message":"ping"}"""),
        Request("user.challenge", "{}"),
        Request("user.query", """{"query":"SELECT * FROM info.actions WHERE namespace = 'main'"}"""),
        Request("kgw.authn_param", "{}"),
        Request("kgw.authn", $$$"""{"nonce":"c2b8d0b4b4f8","sender":"{{{Sender}}}","signature":{"sig":"zPkTTBo4b1Be13NCV+EjTnOQa9q9QI1w4WwuEFicrjdKb2RIenGtNjEtQLlKHWLlsaVL12wrDhyUEfY5DmyWmhs=","type":"secp256k1_ep"}}"""),
        Request("kgw.logout", "{}"),
    ];

    private static readonly string[] Replacements =
    [
        "null", "true", "0", "-1", "1.5", "1e10", "-1e400", "1e400", "123456789012345678901234567890", "\"\"", "\"x\"", "[]", "{}",
        "\"\\ud800\"", "\"\\udc00x\"", "\"" + new string('z', 5_000) + "\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}", "\"0x\"", "\"ed25519:" + new string('z', 2_000) + "\"",
    ];

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly RpcActors _actors = new();
    private readonly List<RpcHttpServer> _servers = [];

    public async Task InitializeAsync()
    {
        foreach (var privateMode in new[] { false, true })
        {
            var gateway = new FakeGateway { ExecuteOnSubmit = (0, "") };
            gateway.Nonces["secp256k1:" + Sender] = 0;
            gateway.MarkExecuted(Convert.FromHexString(TxHash), 1, "the bytes are no Kwil transaction", [1, 2, 3]);
            var reads = _actors.Reads(gateway);
            var challenges = new ViewChallenges(TimeProvider.System, TimeSpan.FromSeconds(10));
            var sessions = new KgwSessions(_actors.Verifiers, TimeProvider.System, _ => Task.FromResult(FakeGateway.ChainId), TimeSpan.FromHours(1));
            var user = new UserService(gateway, _actors.Verifiers, reads, new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)),
                new BroadcastSettings(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(5), 4 << 10), privateMode);
            var methods = user.Methods.Concat(new CallService(reads, sessions, privateMode ? challenges : null, _actors.Verifiers).Methods)
                .Concat(sessions.Methods).Concat(challenges.Methods).Concat(new ActionLookup(privateMode).Methods).ToDictionary(StringComparer.Ordinal);
            _servers.Add(await RpcHttpServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new JsonRpcDispatcher(methods, MaxBody, TimeSpan.FromSeconds(10)), MaxBody));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _actors.Dispose();
    }

    [Fact]
    public async Task Mutated_client_requests_never_get_a_5xx_and_the_servers_answer_afterwards()
    {
        var kinds = new int[Mutations];
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForAsync(0, Cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (index, cancel) =>
        {
            var (body, kind) = Mutate(index);
            Interlocked.Increment(ref kinds[kind]);
            var server = _servers[index % _servers.Count];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync(new Uri(server.Address, RpcHttpServer.Path), content, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if ((int)response.StatusCode >= 500 || !IsJsonRpcAnswer(text))
            {
                failures.Enqueue($"case {index} (seed {Seed}, mutation {kind}): HTTP {(int)response.StatusCode} {Shorten(text)} for {Shorten(Convert.ToBase64String(body))}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {Cases} cases failed; first: {string.Join("\n", failures.Take(5))}");
        Assert.All(kinds, count => Assert.True(count > Cases / Mutations / 2, $"mutation counts {string.Join(", ", kinds)}"));
        Assert.True(statuses.Keys.Count(status => status is 200 or 400 or 404) >= 2, string.Join(", ", statuses));
        foreach (var server in _servers)
        {
            using var ping = new StringContent(Request("user.ping", """{"message":"ping"}"""), Encoding.UTF8, "application/json");
            using var after = await _http.PostAsync(new Uri(server.Address, RpcHttpServer.Path), ping);
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
    }

    [Fact]
    public void The_same_seed_makes_the_same_cases()
    {
        for (var index = 0; index < 200; index++)
        {
            Assert.Equal(Mutate(index).Body, Mutate(index).Body);
        }
    }

    private const int Mutations = 8;

    /// <summary>Case <paramref name="index"/>: one of the client's requests with one mutation, from a generator seeded by the seed and the index alone.</summary>
    private static (byte[] Body, int Kind) Mutate(int index)
    {
        var random = new Random(HashCode.Combine(Seed, index) & int.MaxValue);
        var original = Requests[random.Next(Requests.Length)];
        var bytes = Encoding.UTF8.GetBytes(original);
        var kind = random.Next(Mutations);
        var body = kind switch
        {
            0 => FlipBytes(bytes, random),
            1 => bytes[..random.Next(bytes.Length)],
            2 => Encoding.UTF8.GetBytes(ReplaceValue(original, random, Replacements[random.Next(Replacements.Length)])),
            3 => Encoding.UTF8.GetBytes(ReplaceValue(original, random, random.Next(3) switch
            {
                0 => "1" + new string('9', random.Next(20, 400)),
                1 => "-" + random.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) + "e" + random.Next(-400, 400),
                _ => (random.NextDouble() * 1e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            })),
            4 => Encoding.UTF8.GetBytes(ReplaceValue(original, random, new string('[', random.Next(20, 3_000)) + new string(']', random.Next(0, 3_000)))),
            5 => InsertInvalidUtf8(bytes, random),
            6 => Encoding.UTF8.GetBytes(ReplaceValue(original, random, "\"" + new string((char)random.Next('a', 'z'), random.Next(1, 70_000)) + "\"")),
            _ => Encoding.UTF8.GetBytes(ReplaceValue(original, random, random.Next(2) == 0 ? "\"\\ud83d\"" : "\"a\\udfff\\\"")),
        };
        return (body, kind);
    }

    private static byte[] FlipBytes(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        for (var flips = random.Next(1, 6); flips > 0; flips--)
        {
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        }

        return copy;
    }

    /// <summary>A byte sequence that is no UTF-8 (a lone continuation, a truncated or overlong lead, 0xFF) inside a string or between tokens.</summary>
    private static byte[] InsertInvalidUtf8(byte[] bytes, Random random)
    {
        byte[][] invalid = [[0xC3, 0x28], [0x80], [0xFF], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80]];
        var quote = Array.IndexOf(bytes, (byte)'"', random.Next(bytes.Length));
        var at = quote < 0 ? random.Next(bytes.Length) : quote + 1;
        return [.. bytes[..at], .. invalid[random.Next(invalid.Length)], .. bytes[at..]];
    }

    /// <summary>The request with one of its values (chosen at random, the whole request included) replaced by <paramref name="replacement"/>'s raw JSON text.</summary>
    private static string ReplaceValue(string request, Random random, string replacement)
    {
        var root = JsonNode.Parse(request)!;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[random.Next(nodes.Count)];
        const string marker = "\u0001replace\u0001";
        if (target.Parent is JsonObject parent)
        {
            parent[target.GetPropertyName()] = marker;
        }
        else if (target.Parent is JsonArray array)
        {
            array[target.GetElementIndex()] = marker;
        }
        else
        {
            return replacement;
        }

        return root.ToJsonString().Replace(JsonSerializer.Serialize(marker), replacement, StringComparison.Ordinal);
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null)
        {
            return;
        }

        into.Add(node);
        if (node is JsonObject obj)
        {
            foreach (var (_, child) in obj)
            {
                Collect(child, into);
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                Collect(child, into);
            }
        }
    }

    private static bool IsJsonRpcAnswer(string text)
    {
        try
        {
            using var answer = JsonDocument.Parse(text);
            return answer.RootElement.TryGetProperty("jsonrpc", out var version) && version.GetString() == "2.0"
                && (answer.RootElement.TryGetProperty("result", out _) || answer.RootElement.TryGetProperty("error", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static string Request(string method, string parameters) => $"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{method}\",\"params\":{parameters}}}";
}
