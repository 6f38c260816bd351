using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IdOS.Akka.Engine.Rpc.Explorer;

/// <summary>
/// The explorer's files, built into the assembly (plain HTML, CSS and JavaScript: nothing to build, nothing fetched
/// from elsewhere) and served at `/` and `/explorer/`. The content security policy lets the page load only its own
/// files and talk only to its own origin, so nothing a transaction carries could run as script even if it reached the page.
/// </summary>
public static class ExplorerPage
{
    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (string ContentType, byte[] Bytes)> Files = Load();

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", context => Serve(context, "index.html"));
        app.MapGet("/explorer/{name}", context => Serve(context, (string)context.Request.RouteValues["name"]!));
    }

    private static Task Serve(HttpContext context, string name)
    {
        if (!Files.TryGetValue(name, out var file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync($"no explorer file {name}", context.RequestAborted);
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        context.Response.ContentType = file.ContentType;
        return context.Response.Body.WriteAsync(file.Bytes, context.RequestAborted).AsTask();
    }

    private static Dictionary<string, (string ContentType, byte[] Bytes)> Load()
    {
        var assembly = typeof(ExplorerPage).Assembly;
        var files = new Dictionary<string, (string ContentType, byte[] Bytes)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(name => name.StartsWith("explorer/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            var name = resource["explorer/".Length..];
            files[name] = (ContentType(name), bytes.ToArray());
        }

        return files;
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
