import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "compare" {
        guard arguments.count == 3 else { throw UsageError(LoadOptions.usage) }
        let baseline = try LoadComparison.load(arguments[1])
        let measured = try LoadComparison.load(arguments[2])
        print(LoadComparison.table(baseline: baseline, measured: measured))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(LoadComparison(baseline: baseline, measured: measured)), as: UTF8.self))
    } else {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(LoadOptions.usage)
            exit(0)
        }
        let options = try LoadOptions(arguments: arguments)
        let report = try await LoadRun(options: options).run()
        let json = try report.jsonLine()
        print(report.table())
        print(json)
        if let path = options.jsonFile { try Data((json + "\n").utf8).write(to: URL(fileURLWithPath: path)) }
    }
} catch let error as UsageError {
    FileHandle.standardError.write(Data("\(error.description)\n".utf8))
    exit(2)
}
