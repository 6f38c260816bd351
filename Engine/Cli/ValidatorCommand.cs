using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Configuration;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.Http;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Governance;

namespace IdOS.Akka.Engine.Cli;

/// <summary>
/// `validator join|approve|remove|leave|list`: governance from an operator's shell. The four changes are Kwil
/// transactions signed with the validator key and sent through any node's JSON-RPC; the command waits for the
/// block that executes it and prints the result. `list` reads the sets from the node's own state.
/// </summary>
public static class ValidatorCommand
{
    public static Command Definition()
    {
        var join = Change("join", "Asks to become a validator, naming the TLS key the node connects with and its consensus address; the current " +
            "validators then approve it.", out var joinKey, out var joinRpc);
        var address = CommandLineApp.Required("--address", "the node's consensus address", "HOST:PORT");
        var certificate = CommandLineApp.Text("--tls-cert", "the certificate whose pin the join names (default: tls.crt beside the key file)", "", "FILE");
        join.Options.Add(address);
        join.Options.Add(certificate);
        join.SetAction(parse =>
        {
            var keyFile = parse.GetValue(joinKey)!;
            var certificateFile = parse.GetValue(certificate) is { Length: > 0 } given ? given : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyFile))!, "tls.crt");
            var where = parse.GetValue(address)!;
            return ValidatorMember.IsDialable(where)
                ? Change(keyFile, parse.GetValue(joinRpc)!, new ValidatorJoin(TlsFiles.PinOf(certificateFile).Digest.ToArray(), where), parse.Output())
                : throw new UsageException($"--address '{where}' is not host:port");
        });

        var approve = Change("approve", "Approves the open join request of a candidate; the join passes with more than 2/3 of the validators.",
            out var approveKey, out var approveRpc);
        var candidate = CommandLineApp.Required("--candidate", "the candidate's validator key (64 hex digits)", "KEY");
        approve.Options.Add(candidate);
        approve.SetAction(parse => Change(parse.GetValue(approveKey)!, parse.GetValue(approveRpc)!, new ValidatorApprove(Key(parse.GetValue(candidate)!, "candidate")),
            parse.Output()));

        var fewer = CommandLineApp.Flag("--allow-fewer-than-four", "consent to a set of fewer than four validators, which tolerates no fault");
        var remove = Change("remove", "Votes to remove a validator; passes with more than 2/3 of the other validators.", out var removeKey, out var removeRpc);
        var target = CommandLineApp.Required("--target", "the validator key to remove (64 hex digits)", "KEY");
        remove.Options.Add(target);
        remove.Options.Add(fewer);
        remove.SetAction(parse => Change(parse.GetValue(removeKey)!, parse.GetValue(removeRpc)!,
            new ValidatorRemove(Key(parse.GetValue(target)!, "target"), parse.GetValue(fewer)), parse.Output()));

        var leave = Change("leave", "Leaves the validator set. A change takes effect 10 blocks after the block that passes it, and is refused if the " +
            "live validators left could not form a quorum.", out var leaveKey, out var leaveRpc);
        leave.Options.Add(fewer);
        leave.SetAction(parse => Change(parse.GetValue(leaveKey)!, parse.GetValue(leaveRpc)!, new ValidatorLeave(parse.GetValue(fewer)), parse.Output()));

        var config = CommandLineApp.Required("--config", "the node file of the node whose state to read", "FILE");
        var list = new Command("list", "The validator set of every epoch and the open requests, from the state of a node.") { config };
        list.SetAction(parse => List(parse.GetValue(config)!, parse.Output()));

        return new Command("validator", "Governance from an operator's shell: Kwil transactions signed with the validator key, sent through an RPC " +
            "system; each waits for the block that executes it and prints the result.")
        {
            join, approve, remove, leave, list,
        };
    }

    public static Task<int> Run(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(Definition(), args, output);

    /// <summary>A governance change's command with the two options every change takes.</summary>
    private static Command Change(string name, string description, out Option<string> key, out Option<string> rpc)
    {
        key = CommandLineApp.Required("--key", "the validator key file (made by keygen) that signs the transaction", "FILE");
        rpc = CommandLineApp.Required("--rpc", "an RPC system, e.g. http://127.0.0.1:8484", "URL");
        return new Command(name, description) { key, rpc };
    }

    private static async Task<int> Change(string keyFile, string rpc, ValidatorPayload payload, TextWriter output)
    {
        using var key = KeyFiles.ReadPrivate(keyFile);
        using var client = new RpcClient(rpc);
        var result = await Submit(client, key, payload);
        var code = result["code"]?.GetValue<int>() ?? -1;
        var log = result["log"]?.GetValue<string>() ?? "";
        await output.WriteLineAsync(code == TxCode.Ok
            ? $"{payload.PayloadType} by {key.PublicKey} executed{(log.Length > 0 ? $": {log}" : "")}"
            : $"{payload.PayloadType} by {key.PublicKey} refused (code {code}): {log}");
        return code == TxCode.Ok ? 0 : 1;
    }

    /// <summary>Signs the payload with the next nonce of the validator's account and waits for its block's result.</summary>
    private static async Task<JsonNode> Submit(RpcClient client, Ed25519PrivateKey key, ValidatorPayload payload)
    {
        var chain = await client.Call("user.chain_info", new JsonObject());
        var chainId = chain["chain_id"]?.GetValue<string>() ?? throw new ConfigurationException("user.chain_info answered without a chain_id");
        var account = await client.Call("user.account", new JsonObject
        {
            ["id"] = new JsonObject { ["identifier"] = key.PublicKey.ToString(), ["key_type"] = KwilAuthenticator.Ed25519Type },
            ["status"] = 1,
        });
        var nonce = (account["nonce"]?.GetValue<long>() ?? 0) + 1;
        var body = new KwilTransactionBody(payload.PayloadType, payload.Encode(), payload.PayloadType, BigInteger.Zero, (ulong)nonce, chainId);
        var signature = key.Sign(System.Text.Encoding.UTF8.GetBytes(KwilTransaction.SignedText(body)));
        var transaction = new KwilTransaction(new KwilSignature(signature, KwilAuthenticator.Ed25519Type), body, KwilTransaction.ConcatSerialization,
            key.PublicKey.Bytes.ToArray());
        var answer = await client.Call("user.broadcast", new JsonObject { ["tx"] = TransactionJson.Render(transaction), ["sync"] = 1 });
        return answer["result"] ?? throw new ConfigurationException("user.broadcast answered without the transaction's result");
    }

    private static int List(string configFile, TextWriter output)
    {
        var (chain, options) = NodeSettings.ChainAndState(NodeConfig.Load(configFile));
        using var state = StateDatabase.Open(options);
        var governance = Application.IdosApplication.Governance(chain);
        var height = Storage.Schema.ExecutedBlocks.Height(state.Connection);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"executed height {height}"));
        foreach (var epoch in governance.Epochs(state.Connection))
        {
            var when = epoch.StartHeight <= height ? "active from" : "starts at";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch.Epoch}: {epoch.Members.Count} validators, {when} height {epoch.StartHeight}{(epoch.Epoch > 0 ? $" (decided at {epoch.DecidedHeight})" : "")}, set {epoch.SetHash[..16]}"));
            foreach (var member in epoch.Members)
            {
                output.WriteLine($"  {member.Key}{(member.Address.Length > 0 ? $" {member.Address}" : "")}{(member.Pins.Count > 0 ? $" pin {string.Join(',', member.Pins)}" : "")}");
            }
        }

        foreach (var request in ValidatorGovernance.OpenRequests(state.Connection, height + 1))
        {
            var approvals = request.Approvals.Length == 0 ? 0 : request.Approvals.Split(',').Length;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"open {request.Kind} of {request.Subject}: {approvals} approval(s), opened at {request.OpenedHeight}, lapses after {request.ExpiresHeight}"));
        }

        return 0;
    }

    private static byte[] Key(string hex, string what) =>
        Ed25519PublicKey.TryCreate(TryHex(hex)) is { } key ? key.Bytes.ToArray() : throw new UsageException($"--{what} is a validator's public key: 64 hex digits");

    private static byte[] TryHex(string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return [];
        }
    }

    /// <summary>Kwil JSON-RPC over HTTP; an error answer becomes a <see cref="ConfigurationException"/> with its message.</summary>
    private sealed class RpcClient : IDisposable
    {
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(90) };
        private readonly Uri _endpoint;
        private int _id;

        public RpcClient(string url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new UsageException($"--rpc '{url}' is not an http(s) URL");
            }

            _endpoint = uri.AbsolutePath is "/" or "" ? new Uri(uri, RpcHttpServer.Path) : uri;
        }

        public async Task<JsonNode> Call(string method, JsonObject parameters)
        {
            var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = ++_id, ["method"] = method, ["params"] = parameters };
            HttpResponseMessage response;
            try
            {
                response = await _http.PostAsJsonAsync(_endpoint, request);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new ConfigurationException($"{_endpoint}: {e.Message}");
            }

            using (response)
            {
                JsonNode? answer;
                try
                {
                    answer = await response.Content.ReadFromJsonAsync<JsonNode>();
                }
                catch (JsonException)
                {
                    throw new ConfigurationException($"{_endpoint} answered {method} with HTTP {(int)response.StatusCode} and no JSON-RPC body");
                }

                if (answer?["error"] is { } error)
                {
                    throw new ConfigurationException($"{method}: {error["message"]?.GetValue<string>()} {error["data"]?.ToJsonString()}".TrimEnd());
                }

                return answer?["result"] ?? throw new ConfigurationException($"{_endpoint} answered {method} without a result");
            }
        }

        public void Dispose() => _http.Dispose();
    }
}
