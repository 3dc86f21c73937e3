@mute
Feature: Mute
  A member mutes or unmutes one of its tracks, audio or video. The other members of the session are
  told; the member's own device is not. An audio call has no video track to mute.

  Scenario: Muting and unmuting audio and video in a video call
    Given users alice and bob
    And alice places a video call to bob
    And bob accepts
    When alice mutes audio
    Then bob sees "call-1: alice muted Audio"
    And alice sees nothing
    And alice's audio in the call is muted
    And alice's video in the call is unmuted
    When bob mutes video
    Then alice sees "call-1: bob muted Video"
    When alice unmutes audio
    And bob unmutes video
    Then bob sees "call-1: alice unmuted Audio"
    And alice sees "call-1: bob unmuted Video"
    And alice's audio in the call is unmuted
    And bob's video in the call is unmuted

  Scenario: In a group call every other member is told
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places a video call in team to bob and carol
    And bob accepts
    And carol accepts
    When bob mutes video
    Then alice and carol see "call-1: bob muted Video"
    And bob sees nothing

  Scenario Outline: Muting what is muted or unmuting what is not is refused with 422: <case>
    Given users alice and bob
    And alice places a video call to bob
    And bob accepts
    And <given>
    When <when>
    Then it fails with 422 saying "<message>"
    And nobody sees anything more

    Examples:
      | case                 | given                   | when                  | message       |
      | mute audio twice     | alice mutes audio       | alice mutes audio     | already muted |
      | mute video twice     | alice mutes video       | alice mutes video     | already muted |
      | unmute unmuted audio | 1 second passes         | bob unmutes audio     | not muted     |
      | unmute unmuted video | alice mutes audio       | alice unmutes video   | not muted     |

  Scenario: An audio call has no video track to mute
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice mutes video
    Then it fails with 400 saying "an audio call has no video track"
    When bob unmutes video
    Then it fails with 400

  Scenario: A ringing invitee cannot mute
    Given users alice and bob
    And alice calls bob
    When bob mutes audio
    Then it fails with 422

  Scenario: The caller may mute before the call is answered; the state carries into the call
    Given users alice and bob
    And alice calls bob
    When alice mutes audio
    Then nobody sees anything
    And alice's audio in the call is muted
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And alice's audio in the call is muted
