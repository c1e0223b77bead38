import Hummingbird
import Synchronization

/// The routes the router knows, kept so that a path that exists under another method is
/// answered 405 with `Allow` rather than 404 (the router itself only knows "no match").
final class RouteTable: Sendable {
    private struct Entry {
        let components: [Substring]
        var methods: [String]
    }

    private let entries = Mutex<[Entry]>([])

    func add(path: String, method: String) {
        let components = path.split(separator: "/")
        entries.withLock { entries in
            if let index = entries.firstIndex(where: { $0.components == components }) {
                entries[index].methods.append(method)
            } else {
                entries.append(Entry(components: components, methods: [method]))
            }
        }
    }

    /// Every registered route as (method, path pattern), in registration order.
    var routes: [(method: String, path: String)] {
        entries.withLock { entries in
            entries.flatMap { entry in
                entry.methods.map { (method: $0, path: "/" + entry.components.joined(separator: "/")) }
            }
        }
    }

    func allowedMethods(forPath path: String) -> [String] {
        let parts = path.split(separator: "/")
        return entries.withLock { entries in
            var methods: [String] = []
            for entry in entries where Self.matches(entry.components, parts) {
                methods.append(contentsOf: entry.methods)
            }
            return Array(Set(methods)).sorted()
        }
    }

    private static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        if pattern.last == "**" { return parts.count >= pattern.count - 1 }
        guard pattern.count == parts.count else { return false }
        return zip(pattern, parts).allSatisfy { pattern, part in
            pattern == part || pattern == "*" || (pattern.hasPrefix("{") && pattern.hasSuffix("}"))
                || pattern.hasPrefix(":")
        }
    }
}

/// A router front that records each route in a `RouteTable` as it is added.
final class RecordingRouter<Context: RequestContext>: RouterMethods {
    let router: Router<Context>
    let table: RouteTable

    init(router: Router<Context>, table: RouteTable) {
        self.router = router
        self.table = table
    }

    @discardableResult
    func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == Context {
        table.add(path: path.description, method: method.rawValue)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
