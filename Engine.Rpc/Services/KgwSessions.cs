using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Verification;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>An identity a client proved by signing a KGW login, until the session expires.</summary>
public sealed record KgwSession(byte[] Sender, string SignatureType, DateTimeOffset Expires);

/// <summary>
/// Kwil Gateway's login, emulated in the RPC layer: `kgw.authn_param` hands out a single-use
/// nonce and the SIWE-like text parameters, `kgw.authn` checks the wallet's signature over that text and sets the
/// `kgw_session` cookie, `kgw.logout` ends it. `user.call` with a sender then needs a session for that very sender.
/// With <c>secureCookies</c> (an endpoint clients reach over https) the cookie is marked Secure, so it never travels in clear.
/// </summary>
public sealed class KgwSessions(VerifierPool verifiers, TimeProvider clock, Func<CancellationToken, Task<string>> chainId, TimeSpan lifetime,
    bool secureCookies = false)
{
    public const string CookieName = "kgw_session";
    public const string Statement = "Sign in to read your idOS data through this node.";
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const int MaxOutstanding = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (JsonObject Parameters, DateTimeOffset Expires)> _nonces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KgwSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Sessions held, the expired among them until the next login sweeps them out.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["kgw.authn_param"] = async (_, context, cancel) => Parameters(context, await chainId(cancel)),
        ["kgw.authn"] = async (parameters, context, cancel) => await Authenticate(parameters, context, cancel),
        ["kgw.logout"] = (_, context, _) => Task.FromResult<JsonNode>(Logout(context)),
    };

    /// <summary>The session the request's cookie names, if it is still valid.</summary>
    public KgwSession? SessionOf(RequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Cookie(CookieName) is not { } token)
        {
            return null;
        }

        lock (_gate)
        {
            if (_sessions.TryGetValue(token, out var session) && session.Expires > clock.GetUtcNow())
            {
                return session;
            }

            _sessions.Remove(token);
            return null;
        }
    }

    /// <summary>The text a wallet signs to log in ("Issue At" is the client's spelling).</summary>
    public static string LoginText(JsonObject parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return string.Create(CultureInfo.InvariantCulture,
            $"{parameters["domain"]} wants you to sign in with your account:\n\n{parameters["statement"]}\n\nURI: {parameters["uri"]}\nVersion: {parameters["version"]}\nChain ID: {parameters["chain_id"]}\nNonce: {parameters["nonce"]}\nIssue At: {parameters["issue_at"]}\nExpiration Time: {parameters["expiration_time"]}\n");
    }

    private JsonObject Parameters(RequestContext context, string chain)
    {
        var now = clock.GetUtcNow();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var parameters = new JsonObject
        {
            ["nonce"] = nonce,
            ["statement"] = Statement,
            ["issue_at"] = now.ToString(TimeFormat, CultureInfo.InvariantCulture),
            ["expiration_time"] = now.Add(lifetime).ToString(TimeFormat, CultureInfo.InvariantCulture),
            ["chain_id"] = chain,
            ["domain"] = context.BaseUrl,
            ["version"] = "1",
            ["uri"] = context.BaseUrl + "/auth",
        };
        lock (_gate)
        {
            Prune(now);
            if (_nonces.Count >= MaxOutstanding)
            {
                throw new RpcException(RpcErrorCode.InvalidRequest, "too many logins in progress; try again shortly");
            }

            _nonces[nonce] = ((JsonObject)parameters.DeepClone(), now.Add(lifetime));
        }

        return parameters;
    }

    private async Task<JsonObject> Authenticate(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var nonce = Text(parameters, "nonce");
        var sender = TransactionJson.Hex(Text(parameters, "sender"), "sender");
        if (!parameters.TryGetProperty("signature", out var signature) || signature.ValueKind != JsonValueKind.Object)
        {
            throw RpcException.InvalidParams("signature must be an object with sig and type");
        }

        var type = Text(signature, "type");
        byte[] data;
        try
        {
            data = Convert.FromBase64String(Text(signature, "sig"));
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams("signature.sig is not base64");
        }

        bool known;
        (JsonObject Parameters, DateTimeOffset Expires) issued;
        lock (_gate)
        {
            known = _nonces.Remove(nonce, out issued);
        }

        if (!known || issued.Expires <= clock.GetUtcNow())
        {
            throw RpcException.InvalidParams("unknown or expired nonce; ask kgw.authn_param again");
        }

        var check = await verifiers.Message(type, sender, System.Text.Encoding.UTF8.GetBytes(LoginText(issued.Parameters)), data, cancel);
        if (!check.IsValid)
        {
            throw RpcException.InvalidParams($"the login signature does not verify: {check.Refusal}");
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var expires = clock.GetUtcNow().Add(lifetime);
        lock (_gate)
        {
            _sessions[token] = new KgwSession(sender, type, expires);
        }

        context.SetCookies.Add($"{CookieName}={token}; Path=/; Expires={expires.UtcDateTime.ToString("R", CultureInfo.InvariantCulture)}; HttpOnly; SameSite=Lax{(secureCookies ? "; Secure" : "")}");
        return [];
    }

    private JsonObject Logout(RequestContext context)
    {
        if (context.Cookie(CookieName) is { } token)
        {
            lock (_gate)
            {
                _sessions.Remove(token);
            }
        }

        context.SetCookies.Add($"{CookieName}=; Path=/; Expires={DateTimeOffset.UnixEpoch.UtcDateTime.ToString("R", CultureInfo.InvariantCulture)}; HttpOnly; SameSite=Lax{(secureCookies ? "; Secure" : "")}");
        return [];
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var expired in _sessions.Where(s => s.Value.Expires <= now).Select(s => s.Key).ToList())
        {
            _sessions.Remove(expired);
        }

        foreach (var expired in _nonces.Where(n => n.Value.Expires <= now).Select(n => n.Key).ToList())
        {
            _nonces.Remove(expired);
        }
    }

    private static string Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw RpcException.InvalidParams($"{name} must be a string");
}
