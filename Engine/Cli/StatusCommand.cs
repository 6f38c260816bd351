using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace IdOS.Akka.Engine.Cli;

/// <summary>
/// `status`: what a running validator says of itself through its admin JSON-RPC (height, round and leader, epoch and
/// set, health, peers with the age of their last message, mempool, execution lag, versions), or what an RPC system
/// says through `user.health`; once, or refreshed every second with --watch until Ctrl-C or SIGTERM.
/// </summary>
public static class StatusCommand
{
    public const string Usage = """
        status --node HOST:PORT | --rpc URL [--watch] [--interval SECONDS]
          a running validator's height, round, leader, validator sets, peers, mempool, execution lag and health, read
          from its admin listener (idos.node.admin.listen, 127.0.0.1:26680 by default); or with --rpc an RPC system's
          health (e.g. http://127.0.0.1:8484); --watch refreshes it every --interval seconds (1) until Ctrl-C
        """;

    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(["watch"], StringComparer.Ordinal));
        var node = options.Text("node", "");
        var rpc = options.Text("rpc", "");
        var watch = options.Flag("watch");
        var interval = TimeSpan.FromSeconds(options.Number("interval", 1, 1, 3_600));
        options.RejectUnknown();
        if ((node.Length == 0) == (rpc.Length == 0))
        {
            throw new UsageException("status needs either --node HOST:PORT (a validator's admin listener) or --rpc URL (an RPC system)");
        }

        var endpoint = node.Length > 0 ? AdminEndpoint(node) : RpcEndpoint(rpc);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        var inPlace = watch && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        while (true)
        {
            string report;
            try
            {
                report = node.Length > 0 ? await NodeReport(http, endpoint, stop.Token) : await RpcReport(http, endpoint, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or StatusException)
            {
                report = $"error: {endpoint} does not answer: {e.Message}";
                if (!watch)
                {
                    await Console.Error.WriteLineAsync(report);
                    return 1;
                }
            }

            // A terminal gets the report redrawn in place; a pipe or file one report after another.
            await output.WriteAsync(inPlace ? $"\u001b[H\u001b[2J{report}" : report + (watch ? Environment.NewLine : ""));
            await output.FlushAsync(CancellationToken.None);
            if (!watch)
            {
                return 0;
            }

            try
            {
                await Task.Delay(interval, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
    }

    private static Uri AdminEndpoint(string node) =>
        Uri.TryCreate($"http://{node}/rpc/v1", UriKind.Absolute, out var url) && url.Port > 0 && node.Contains(':', StringComparison.Ordinal)
            ? url
            : throw new UsageException($"--node {node} is not HOST:PORT, such as 127.0.0.1:26680");

    private static Uri RpcEndpoint(string rpc) =>
        Uri.TryCreate(rpc, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? new Uri(url, "/rpc/v1")
            : throw new UsageException($"--rpc {rpc} is not an http or https URL, such as http://127.0.0.1:8484");

    private static async Task<string> NodeReport(HttpClient http, Uri endpoint, CancellationToken cancel)
    {
        var status = await Call(http, endpoint, "admin.status", cancel);
        var peers = (await Call(http, endpoint, "admin.peers", cancel))["peers"]!.AsArray();
        var epochs = (await Call(http, endpoint, "admin.validators", cancel))["epochs"]!.AsArray();
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        var healthy = (bool)status["healthy"]!;
        Line(Invariant($"chain {status["chain_id"]}  validator {Validator((int)status["validator"]!)}  version {status["version"]}  {status["runtime"]}"));
        Line(Invariant($"height {status["height"]} (network {status["network_height"]})  round {status["round"]}  leader {status["leader"]}  epoch {status["epoch"]} of {status["validators"]} validators{((bool)status["voting"]! ? "" : " (observing)")}"));
        Line(Invariant($"executed {status["executed_height"]} (lag {status["execution_lag"]})  mempool {status["mempool"]}  committed {status["committed_transactions"]} tx  app hash {Short(status["app_hash"])}"));
        Line(healthy ? "health: healthy" : $"health: UNHEALTHY: {status["reason"]}");
        Line($"peers ({peers.Count}):");
        foreach (var peer in peers)
        {
            Line(Invariant($"  {Validator((int)peer!["validator"]!),-6} {peer["address"],-40} key {Short(peer["key"])}  heard {peer["last_heard_ms_ago"]} ms ago{((bool)peer["in_set"]! ? "" : "  (no vote this epoch)")}"));
        }

        Line("validator sets:");
        foreach (var epoch in epochs)
        {
            var members = epoch!["validators"]!.AsArray();
            Line(Invariant($"  epoch {epoch["epoch"]} from height {epoch["start_height"]}: {members.Count} validators, set {Short(epoch["set_hash"])}"));
            foreach (var member in members)
            {
                var address = (string)member!["address"]!;
                Line(Invariant($"    {member["index"],-4} {member["key"]}{(address.Length > 0 ? $"  {address}" : "")}"));
            }
        }

        return text.ToString();
    }

    private static async Task<string> RpcReport(HttpClient http, Uri endpoint, CancellationToken cancel)
    {
        var health = await Call(http, endpoint, "user.health", cancel);
        var healthy = (bool)health["healthy"]!;
        return Invariant($"""
            chain {health["chain_id"]}  RPC {endpoint.GetLeftPart(UriPartial.Authority)}  API {health["version"]}  mode {health["mode"]}
            height {health["height"]} (network {health["network_height"]})  block age {health["block_age"]} ms  peers {health["peer_count"]}  syncing {health["syncing"]}
            {(healthy ? "health: healthy" : $"health: UNHEALTHY: {health["reason"]}")}

            """).ReplaceLineEndings("\n");
    }

    private static async Task<JsonNode> Call(HttpClient http, Uri endpoint, string method, CancellationToken cancel)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = new JsonObject() };
        using var response = await http.PostAsJsonAsync(endpoint, request, cancel);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel));
        return body?["result"] ?? throw new StatusException($"{method} answered HTTP {(int)response.StatusCode}: {body?["error"]?["message"] ?? "no result"}");
    }

    private static string Validator(int number) => number >= 1024 ? "(joined)" : number.ToString(CultureInfo.InvariantCulture);

    private static string Short(JsonNode? hash) => hash is null ? "-" : ((string)hash!).Length > 16 ? ((string)hash!)[..16] : (string)hash!;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class StatusException(string message) : Exception(message);
}
