// SPDX-License-Identifier: MIT
// Forwarder splits the ether sent with a call between two recipients, so that
// Vestigo's generated Ethereum cases (internal/ethscenario) contain internal
// value transfers that only call traces show. It never keeps ether. See
// README.md for the compiler and how to rebuild Forwarder.bin and
// Forwarder.abi byte for byte.
pragma solidity 0.8.37;

contract Forwarder {
    event Forwarded(address indexed sender, address indexed first, address indexed second, uint256 toFirst, uint256 toSecond);

    // forward sends toFirst wei of msg.value to first and the rest to second.
    function forward(address payable first, address payable second, uint256 toFirst) external payable {
        require(toFirst <= msg.value, "Forwarder: toFirst exceeds msg.value");
        uint256 toSecond = msg.value - toFirst;
        (bool ok, ) = first.call{value: toFirst}("");
        require(ok, "Forwarder: first recipient refused");
        (ok, ) = second.call{value: toSecond}("");
        require(ok, "Forwarder: second recipient refused");
        emit Forwarded(msg.sender, first, second, toFirst, toSecond);
    }
}
