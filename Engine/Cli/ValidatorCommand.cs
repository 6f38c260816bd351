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
    public const string Usage = """
        validator join --key FILE --rpc URL --address HOST:PORT [--tls-cert FILE]
          asks to become a validator: signed with the validator key in FILE (made by keygen), naming the TLS key the
          node connects with (the pin of --tls-cert, by default tls.crt beside FILE) and its consensus address; the
          current validators then approve it
        validator approve --key FILE --rpc URL --candidate KEY
          approves the open join request of KEY (hex); the join passes with more than 2/3 of the validators
        validator remove --key FILE --rpc URL --target KEY [--allow-fewer-than-four]
          votes to remove KEY; passes with more than 2/3 of the other validators
        validator leave --key FILE --rpc URL [--allow-fewer-than-four]
          leaves the validator set; a change takes effect 10 blocks after the block that passes it, and is refused if
          the live validators left could not form a quorum, or (without the flag) if fewer than four would remain
        validator list --config FILE
          the validator set of every epoch and the open requests, from the state of the node FILE configures
        """;

    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (args.Count == 0)
        {
            throw new UsageException("validator needs a subcommand: join, approve, remove, leave or list");
        }

        var options = new CommandLineOptions(args.Skip(1).ToList(), new HashSet<string>(StringComparer.Ordinal) { "allow-fewer-than-four" });
        if (args[0] == "list")
        {
            var config = options.Text("config", "");
            options.RejectUnknown();
            return config.Length == 0 ? throw new UsageException("validator list needs --config FILE") : List(config, output);
        }

        var keyFile = options.Text("key", "");
        var rpc = options.Text("rpc", "");
        ValidatorPayload payload = args[0] switch
        {
            "join" => new ValidatorJoin(TlsFiles.PinOf(TlsCertificate(options, keyFile)).Digest.ToArray(), Required(options, "address")),
            "approve" => new ValidatorApprove(Key(Required(options, "candidate"), "candidate")),
            "remove" => new ValidatorRemove(Key(Required(options, "target"), "target"), options.Flag("allow-fewer-than-four")),
            "leave" => new ValidatorLeave(options.Flag("allow-fewer-than-four")),
            _ => throw new UsageException($"unknown validator subcommand '{args[0]}' (join, approve, remove, leave, list)"),
        };
        options.RejectUnknown();
        if (keyFile.Length == 0 || rpc.Length == 0)
        {
            throw new UsageException($"validator {args[0]} needs --key FILE and --rpc URL");
        }

        if (payload is ValidatorJoin { Address: var address } && !ValidatorMember.IsDialable(address))
        {
            throw new UsageException($"--address '{address}' is not host:port");
        }

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

    private static string TlsCertificate(CommandLineOptions options, string keyFile)
    {
        var certificate = options.Text("tls-cert", "");
        return certificate.Length > 0 ? certificate
            : keyFile.Length > 0 ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyFile))!, "tls.crt")
            : throw new UsageException("validator join needs --key FILE");
    }

    private static string Required(CommandLineOptions options, string name)
    {
        var value = options.Text(name, "");
        return value.Length > 0 ? value : throw new UsageException($"--{name} is required");
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
