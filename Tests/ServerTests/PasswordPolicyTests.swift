import Testing

@testable import Server

@Suite("The password policy")
struct PasswordPolicyTests {
    @Test(
        "control characters, short, blank, over 72 bytes and well-known passwords are refused",
        arguments: [
            "\0\0\0\0\0\0\0\0", "Secret-1\0suffix", "tab\there-long", "12345678", "password", "        ", "Password1",
            "qwertyuiop", "1q2w3e4r", "iloveyou", "letmein123", "p@ssw0rd", "summer2024", "short1!",
            String(repeating: "é", count: 37),
        ])
    func refused(password: String) {
        #expect(!PasswordPolicy.problems(with: password).isEmpty, "\(password.debugDescription) was accepted")
    }

    @Test("ordinary strong passwords are accepted", arguments: ["Tram-Lantern-92", "correct horse battery", "Zk8#p2Lw", "password-123"])
    func accepted(password: String) {
        #expect(PasswordPolicy.problems(with: password) == [])
    }

    @Test("the password may not be the email or its local part")
    func notTheEmail() {
        #expect(!PasswordPolicy.problems(with: "dana.lee@example.com", email: "Dana.Lee@example.com").isEmpty)
        #expect(!PasswordPolicy.problems(with: "dana.lee.x", email: "dana.lee.x@example.com").isEmpty)
    }

    @Test("the shipped list holds thousands of common passwords, lowercased, none with control characters")
    func theList() {
        #expect(CommonPasswords.all.count > 5000)
        #expect(CommonPasswords.all.allSatisfy { $0 == $0.lowercased() && $0.count >= PasswordPolicy.minimumLength })
        #expect(CommonPasswords.all.isSuperset(of: ["password", "12345678", "qwertyuiop", "iloveyou"]))
    }
}
