using System.CommandLine;
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
    public static Command Definition()
    {
        var node = CommandLineApp.Text("--node", "a validator's admin listener (idos.node.admin.listen; 127.0.0.1:26680 by default, 26681-26687 " +
            "on the localnet)", "", "HOST:PORT");
        var rpc = CommandLineApp.Text("--rpc", "an RPC system, e.g. http://127.0.0.1:8484: its health as user.health reports it", "", "URL");
        var watch = CommandLineApp.Flag("--watch", "refresh until Ctrl-C: in place on a terminal, one report after another in a pipe");
        var interval = CommandLineApp.Count("--interval", "seconds between refreshes with --watch", 1, 1, 3_600, "SECONDS");
        var command = new Command("status", "A running validator's height, round, leader, validator sets, peers with the age of their last message, " +
            "mempool, execution lag, health and versions; or an RPC system's health.")
        {
            node, rpc, watch, interval,
        };
        command.Validators.Add(result =>
        {
            if (string.IsNullOrEmpty(result.GetValue(node)) == string.IsNullOrEmpty(result.GetValue(rpc)))
            {
                result.AddError("status needs either --node HOST:PORT (a validator's admin listener) or --rpc URL (an RPC system)");
            }
        });
        command.SetAction(parse => Run(parse.GetValue(node)!, parse.GetValue(rpc)!, parse.GetValue(watch), TimeSpan.FromSeconds(parse.GetValue(interval)),
            parse.Output()));
        return command;
    }

    public static Task<int> Run(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(Definition(), args, output);

    private static async Task<int> Run(string node, string rpc, bool watch, TimeSpan interval, TextWriter output)
    {
        var endpoint = node.Length > 0 ? AdminEndpoint(node) : RpcEndpoint(rpc);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        async Task<(string Report, bool Answered)> Read()
        {
            try
            {
                return (node.Length > 0 ? await NodeReport(http, endpoint, stop.Token) : await RpcReport(http, endpoint, stop.Token), true);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or StatusException && !stop.IsCancellationRequested)
            {
                return ($"error: {endpoint} does not answer: {e.Message}", false);
            }
        }

        if (!watch)
        {
            var (report, answered) = await Read();
            await (answered ? output : Console.Error).WriteAsync(answered ? report : report + Environment.NewLine);
            return answered ? 0 : 1;
        }

        try
        {
            if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected)
            {
                await LiveStatus.Watch(Read, interval, stop.Token);
            }
            else
            {
                while (!stop.IsCancellationRequested)
                {
                    await output.WriteLineAsync((await Read()).Report);
                    await output.FlushAsync(CancellationToken.None);
                    await Task.Delay(interval, stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return 0;
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
