using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace AgentOrchestrator.Gateway.Page;

/// <summary>Serves the page embedded from wwwroot (see Gateway.csproj) at "/" and its files by path.</summary>
internal static class PageEndpoints
{
    private const string Prefix = "wwwroot/";

    public static void MapRunPage(this IEndpointRouteBuilder endpoints)
    {
        var assembly = typeof(PageEndpoints).Assembly;
        var contentTypes = new FileExtensionContentTypeProvider();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var path = "/" + resource[Prefix.Length..];
            if (!contentTypes.TryGetContentType(path, out var contentType))
            {
                contentType = "application/octet-stream";
            }
            var handler = Serve(assembly, resource, contentType);
            endpoints.MapGet(path, handler).AllowAnonymous();
            if (path == "/index.html")
            {
                endpoints.MapGet("/", handler).AllowAnonymous();
            }
        }
    }

    private static RequestDelegate Serve(Assembly assembly, string resource, string contentType) => async context =>
    {
        await using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded page file {resource} is missing.");
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentLength = stream.Length;
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    };
}
