using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IdOS.Akka.Engine.Kwil.Catalog;
using IdOS.Akka.Engine.Rpc.JsonRpc;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// `user.query`, limited to the one query a Kwil client makes: the `info.actions` lookup it
/// does before calling an action with named parameters, answered from the schema's action definitions. Any other SQL
/// is refused — the node is not a SQL endpoint — and private mode refuses queries altogether, as kwild does.
/// </summary>
public sealed partial class ActionLookup(bool privateMode)
{
    private static readonly string[] Columns =
        ["namespace", "name", "raw_statement", "access_modifiers", "parameter_names", "parameter_types", "return_names", "return_types", "returns_table", "built_in"];

    private static readonly HashSet<string> ArrayColumns = new(StringComparer.Ordinal)
        { "access_modifiers", "parameter_names", "parameter_types", "return_names", "return_types" };

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["user.query"] = (parameters, _, _) => Task.FromResult<JsonNode>(Query(parameters)),
    };

    private JsonObject Query(JsonElement parameters)
    {
        if (privateMode)
        {
            throw new RpcException(RpcErrorCode.QueryNotAllowed, "this node is in private mode and serves no queries");
        }

        var sql = parameters.TryGetProperty("query", out var q) && q.ValueKind == JsonValueKind.String ? q.GetString()! : "";
        if (!ActionsQuery().IsMatch(sql))
        {
            throw RpcException.InvalidParams("only the action lookup is served: SELECT * FROM info.actions WHERE namespace = $namespace");
        }

        var ns = Namespace(parameters);
        var values = new JsonArray();
        if (ns == ActionCatalog.Namespace)
        {
            foreach (var action in ActionCatalog.All.Values.OrderBy(a => a.Name, StringComparer.Ordinal))
            {
                string[] modifiers = action.IsView ? ["PUBLIC", "VIEW"] : action.OwnerOnly ? ["PUBLIC", "OWNER"] : ["PUBLIC"];
                values.Add(new JsonArray(ns, action.Name, "", Strings(modifiers), Strings(action.Parameters.Select(p => "$" + p.Name)),
                    Strings(action.Parameters.Select(p => p.Type)), new JsonArray(), new JsonArray(), action.IsView, false));
            }
        }

        var types = new JsonArray([.. Columns.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c is "returns_table" or "built_in" ? "bool" : "text",
            ["is_array"] = ArrayColumns.Contains(c),
            ["metadata"] = new JsonArray(0, 0),
        })]);
        return new JsonObject
        {
            ["query_result"] = new JsonObject { ["column_names"] = new JsonArray([.. Columns.Select(c => (JsonNode)c)]), ["column_types"] = types, ["values"] = values },
            ["logs"] = "",
            ["error"] = null,
        };
    }

    /// <summary>The `$namespace` parameter: Kwil's encoded value, a 1 (not null) followed by the text.</summary>
    private static string Namespace(JsonElement parameters)
    {
        if (!parameters.TryGetProperty("params", out var named) || named.ValueKind != JsonValueKind.Object
            || !named.TryGetProperty("$namespace", out var value) || value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() != 1
            || data[0].ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams("params.$namespace must be a text value with one data element");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(data[0].GetString()!);
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams("params.$namespace.data[0] is not base64");
        }

        return bytes is [1, ..] ? System.Text.Encoding.UTF8.GetString(bytes.AsSpan(1)) : throw RpcException.InvalidParams("params.$namespace is null");
    }

    private static JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(i => (JsonNode)i)]);

    [GeneratedRegex(@"^\s*SELECT\s+\*\s+FROM\s+info\.actions\s+WHERE\s+namespace\s*=\s*\$namespace\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ActionsQuery();
}
