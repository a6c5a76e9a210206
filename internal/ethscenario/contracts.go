package ethscenario

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// The compiled contracts (see contracts/README.md).
var (
	//go:embed contracts/Token.bin
	tokenBinHex string
	//go:embed contracts/Token.abi
	tokenABIJSON string
	//go:embed contracts/Forwarder.bin
	forwarderBinHex string
	//go:embed contracts/Forwarder.abi
	forwarderABIJSON string
)

// Contract is one of the compiled contracts the scenario deploys.
type Contract struct {
	Name     string  // "Token" or "Forwarder"
	Bytecode []byte  // creation code, without constructor arguments
	ABI      abi.ABI // the contract's interface
}

// TokenContract returns the compiled ERC-20 token of contracts/Token.sol.
// Its constructor takes (string name, string symbol, uint8 decimals).
func TokenContract() (Contract, error) { return loadContract("Token", tokenBinHex, tokenABIJSON) }

// ForwarderContract returns the compiled contracts/Forwarder.sol.
func ForwarderContract() (Contract, error) {
	return loadContract("Forwarder", forwarderBinHex, forwarderABIJSON)
}

func loadContract(name, binHex, abiJSON string) (Contract, error) {
	code, err := hex.DecodeString(strings.TrimSpace(binHex))
	if err != nil {
		return Contract{}, fmt.Errorf("ethscenario: contracts/%s.bin is not hex: %v", name, err)
	}
	if len(code) == 0 {
		return Contract{}, fmt.Errorf("ethscenario: contracts/%s.bin is empty", name)
	}
	a, err := abi.JSON(bytes.NewReader([]byte(abiJSON)))
	if err != nil {
		return Contract{}, fmt.Errorf("ethscenario: contracts/%s.abi: %v", name, err)
	}
	return Contract{Name: name, Bytecode: code, ABI: a}, nil
}
